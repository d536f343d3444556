@testable import BertBaselines
import BertCore
import Foundation
import XCTest

/// The few-shot head against scikit-learn's LogisticRegression(C=1) on the same embeddings
/// (Fixtures/embedding_head.json, from generate_embedding_head.py): weights, intercepts and
/// probabilities at the optimum, binary (stored as the rows [0, w]) and three classes.
final class EmbeddingClassifierTests: XCTestCase {
    private struct Case: Decodable {
        var name: String
        var classes: Int
        var rows: [[Double]]
        var labels: [Int]
        var coef: [[Double]]
        var intercept: [Double]
        var proba: [[Double]]
    }

    private struct File: Decodable { var cases: [Case] }

    func testHeadMatchesScikitLearn() throws {
        let file = try Fixtures.decode(File.self, "embedding_head.json")
        XCTAssertEqual(file.cases.count, 2)
        for c in file.cases {
            let rows = c.rows.map { $0.map(Float.init) }
            let fit = try EmbeddingClassifier.fit(embeddings: rows, labels: c.labels, classes: c.classes, c: 1, tolerance: 1e-10)
            let head = fit.head
            XCTAssertEqual(head.classes, c.classes)
            let firstRow = c.classes == 2 ? 1 : 0
            if c.classes == 2 {
                XCTAssertEqual(head.row(0).map { $0 }, [Float](repeating: 0, count: head.hidden), "binary: row 0 is zero")
                XCTAssertEqual(head.bias[0], 0)
            }
            for (r, coef) in c.coef.enumerated() {
                for (j, w) in coef.enumerated() {
                    XCTAssertEqual(Double(Array(head.row(firstRow + r))[j]), w, accuracy: 1e-4, "\(c.name) coef[\(r)][\(j)]")
                }
                XCTAssertEqual(Double(head.bias[firstRow + r]), c.intercept[r], accuracy: 1e-4, "\(c.name) intercept[\(r)]")
            }
            var worst = 0.0
            for (row, expected) in zip(rows, c.proba) {
                let logits = head.logits(row).map(Double.init)
                let m = logits.max()!
                let e = logits.map { Foundation.exp($0 - m) }
                let s = e.reduce(0, +)
                for (p, q) in zip(e.map { $0 / s }, expected) { worst = max(worst, abs(p - q)) }
            }
            XCTAssertLessThan(worst, 1e-5, "\(c.name): softmax of the head's logits is predict_proba")
        }
    }

    func testMissingClassOrRaggedRowsAreRefused() {
        XCTAssertThrowsError(try EmbeddingClassifier.fit(embeddings: [[1, 0], [0, 1]], labels: [0, 0], classes: 2))
        XCTAssertThrowsError(try EmbeddingClassifier.fit(embeddings: [[1, 0], [0]], labels: [0, 1], classes: 2))
    }
}
