import BertCore
import BertPipeline
import Foundation
import XCTest

/// Long documents: the window aggregation (forward and backward), the `long_documents` key of
/// config.json, and a model classifying a document as the aggregate of its windows.
final class LongDocumentTests: XCTestCase {
    // Two documents: three windows (lengths 10, 10, 4) and one window; two outputs.
    private let groups = WindowGroups(counts: [3, 1], tokens: [10, 10, 4, 7])
    private let rows: [[Float]] = [[1, -2], [3, 0.5], [-1, 4], [0.25, -0.75]]

    func testForwardByHand() {
        let mean = aggregateWindows(rows, groups: groups, aggregation: .mean)
        XCTAssertLessThan(maxAbsDifference(mean.flatMap { $0 }, [1, 2.5 / 3, 0.25, -0.75]), 1e-6)
        XCTAssertEqual(aggregateWindows(rows, groups: groups, aggregation: .max), [[3, 4], [0.25, -0.75]])
        let weighted = aggregateWindows(rows, groups: groups, aggregation: .weighted)
        let first: Float = (10 * 1 + 10 * 3 - 4 * 1) / 24, second: Float = (-10 * 2 + 10 * 0.5 + 4 * 4) / 24
        XCTAssertEqual(weighted[0][0], first, accuracy: 1e-6)
        XCTAssertEqual(weighted[0][1], second, accuracy: 1e-6)
        XCTAssertEqual(weighted[1], [0.25, -0.75], "one window is itself")
    }

    /// The backward against central differences of Σ g ⊙ forward (max away from ties).
    func testBackwardMatchesFiniteDifferences() {
        let dOut: [Float] = [0.5, -1.5, 2, 0.75]
        for aggregation in WindowAggregation.allCases {
            var flat = rows.flatMap { $0 }
            var dRows = [Float](repeating: .nan, count: flat.count)
            windowAggregationBackward(dRows: &dRows, dOut: dOut, rows: flat, groups: groups, classes: 2, aggregation: aggregation)
            func objective(_ x: [Float]) -> Double {
                var out = [Float](repeating: 0, count: 4)
                windowAggregationForward(out: &out, rows: x, groups: groups, classes: 2, aggregation: aggregation)
                return zip(out, dOut).reduce(0) { $0 + Double($1.0 * $1.1) }
            }
            for i in flat.indices {
                let h: Float = 1e-2
                let x = flat[i]
                flat[i] = x + h; let plus = objective(flat)
                flat[i] = x - h; let minus = objective(flat)
                flat[i] = x
                XCTAssertEqual(Double(dRows[i]), (plus - minus) / Double(2 * h), accuracy: 1e-4, "\(aggregation) element \(i)")
            }
        }
    }

    func testPolicyInConfig() throws {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("tiny-bert/config.json"))) as! [String: Any]
        XCTAssertNil(try ModelConfig(json: json).longDocuments, "no key: texts are truncated")
        json["long_documents"] = ["window": 32, "stride": 8, "aggregate": "max"]
        XCTAssertEqual(try ModelConfig(json: json).longDocuments, LongDocumentPolicy(window: 32, overlap: 8, aggregation: .max))
        json["long_documents"] = ["aggregate": "weighted"]
        XCTAssertEqual(try ModelConfig(json: json).longDocuments, LongDocumentPolicy(window: 64, overlap: 16, aggregation: .weighted),
                       "defaults: the model's maximum, a quarter of it shared")
        for bad: Any in [["window": 65], ["window": 32, "stride": 28], ["aggregate": "median"], ["windows": 32], "mean"] {
            json["long_documents"] = bad
            XCTAssertThrowsError(try ModelConfig(json: json), "\(bad)") { error in
                XCTAssertEqual((error as? BertError)?.code, .invalidConfig)
                XCTAssertTrue("\(error)".contains("long_documents"), "\(error)")
            }
        }
    }

    /// A document's logits are its windows' logits, each computed alone, aggregated; a text that
    /// fits gets what `classify` gives it (to rounding: another batch sums in another order).
    func testModelClassifiesDocumentsAsTheirWindows() throws {
        let model = try TextModel(directory: try tinyBertWithWindows(window: 16, stride: 4, aggregate: "mean"))
        let policy = try XCTUnwrap(model.longDocuments)
        let workspace = model.makeWorkspace()
        let long = (0..<70).map { ["a", "b", "c", "d", "e"][$0 % 5] + "\($0 % 7)" }.joined(separator: " ")
        let short = "a1 b2 c3"
        let windows = try model.prepareWindows(long, policy: policy)
        XCTAssertGreaterThan(windows.count, 3)
        XCTAssertTrue(windows.allSatisfy { $0.encoding.ids.count <= 16 })
        let results = try model.classify(documents: [windows, try model.prepareWindows(short, policy: policy)],
                                         aggregation: .mean, workspace: workspace)
        XCTAssertEqual(results.map(\.windows), [windows.count, 1])
        let alone = try windows.map { try model.classify([$0], workspace: workspace)[0].logits }
        let expected = (0..<3).map { j in alone.reduce(0) { $0 + $1[j] } / Float(alone.count) }
        XCTAssertLessThan(maxAbsDifference(results[0].logits, expected), 1e-5)
        XCTAssertLessThan(maxAbsDifference(results[1].logits, try model.classify([model.prepare(short)], workspace: workspace)[0].logits), 1e-6)

        // Embeddings: unit length, and a one-window document keeps its window's vector exactly.
        let embedded = try model.embed(documents: [windows, [try model.prepare(short)]], aggregation: .mean, workspace: workspace)
        XCTAssertEqual(embedded[0].reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
        let vectors = try model.embed(windows + [model.prepare(short)], workspace: workspace)
        XCTAssertEqual(embedded[1], vectors.last!)
        XCTAssertEqual(aggregateWindowEmbeddings([vectors[0]], groups: WindowGroups(counts: [1], tokens: [16]), aggregation: .max), [vectors[0]])
    }

    /// tiny-bert (64 positions) with `long_documents` in its config.json.
    private func tinyBertWithWindows(window: Int, stride: Int, aggregate: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-windows-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.url("tiny-bert"), to: dir)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        json["long_documents"] = ["window": window, "stride": stride, "aggregate": aggregate]
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return dir
    }
}

/// A binary softmax model with a decision threshold on label 1 (`--tune-threshold`) predicts by
/// it; without one, by the larger probability.
final class DecisionThresholdTests: XCTestCase {
    func testBinaryThresholdDecides() {
        let logits: [Float] = [0.4, 0]  // p(pos) ≈ 0.401
        let plain = Classification(labels: ["neg", "pos"], logits: logits, scoring: .softmax, truncatedTokens: 0)
        XCTAssertEqual(plain.label, "neg")
        let tuned = Classification(labels: ["neg", "pos"], logits: logits, scoring: .softmax, thresholds: ["pos": 0.35], truncatedTokens: 0)
        XCTAssertEqual(tuned.label, "pos")
        XCTAssertEqual(tuned.score, 1 / (1 + exp(0.4)), accuracy: 1e-6)
        let strict = Classification(labels: ["neg", "pos"], logits: [0, 0.4], scoring: .softmax, thresholds: ["pos": 0.9], truncatedTokens: 0)
        XCTAssertEqual(strict.label, "neg")
        let three = Classification(labels: ["a", "b", "c"], logits: [0.1, 0.5, 0.2], scoring: .softmax, thresholds: ["b": 0.99], truncatedTokens: 0)
        XCTAssertEqual(three.label, "b", "thresholds apply to binary models only")
    }
}
