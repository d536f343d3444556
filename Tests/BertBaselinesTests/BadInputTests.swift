@testable import BertBaselines
import BertTraining
import Foundation
import XCTest

/// Bad training input is a `TrainingDataError` with a code and a message, never a crash.
final class BadInputTests: XCTestCase {
    private func data(_ rows: [(String, String)], labels: [String], task: BertTraining.Task = .singleLabel) throws -> LabelledDataset {
        let examples = rows.enumerated().map { Example(text: $1.0, label: $1.1, line: $0 + 2) }
        return try Dataset(source: "test.tsv", examples: examples)
            .labelled(with: LabelSet(names: labels, minimum: task == .singleLabel ? 2 : 1), task: task)
    }

    private func assertError(_ code: TrainingDataError.Code, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual((error as? TrainingDataError)?.code, code, "\(error)", file: file, line: line)
            XCTAssertFalse((error as? TrainingDataError)?.message.isEmpty ?? true, file: file, line: line)
        }
    }

    func testEmptyTrainingSet() throws {
        let empty = LabelledDataset(dataset: Dataset(source: "empty.tsv", examples: []), labels: [], labelSet: try LabelSet(names: ["a", "b"]))
        assertError(.notEnoughData) { _ = try LinearBaseline.train(empty) }
    }

    func testOneClass() throws {
        let train = try data([("good film", "pos"), ("great plot", "pos")], labels: ["neg", "pos"])
        assertError(.notEnoughData) { _ = try LinearBaseline.train(train) }
    }

    func testAClassWithoutExamples() throws {
        let train = try data([("good film", "pos"), ("bad film", "neg")], labels: ["neg", "neu", "pos"])
        assertError(.notEnoughData) { _ = try LinearBaseline.train(train) }
    }

    func testOnlyEmptyTextsHaveNoVocabulary() throws {
        let train = try data([("", "pos"), ("  ", "neg"), ("", "neg")], labels: ["neg", "pos"])
        assertError(.notEnoughData) { _ = try LinearBaseline.train(train) }
    }

    func testMinDFAboveTheTexts() throws {
        let train = try data([("good film", "pos"), ("bad film", "neg")], labels: ["neg", "pos"])
        var options = LinearBaselineOptions()
        options.minDF = 5
        assertError(.notEnoughData) { _ = try LinearBaseline.train(train, options: options) }
    }

    func testSomeEmptyTextsTrainAndScore() throws {
        let train = try data([("good film", "pos"), ("", "neg"), ("bad film", "neg"), ("good good", "pos"), ("🙂", "pos")], labels: ["neg", "pos"])
        var options = LinearBaselineOptions()
        options.minDF = 1
        let model = try LinearBaseline.train(train, options: options)
        let logits = model.logits(["", "good", "   "])
        XCTAssertEqual(logits.count, 3)
        XCTAssertTrue(logits.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isFinite) })
        XCTAssertEqual(logits[0], logits[2], "two texts without terms score the same (the intercept)")
        XCTAssertEqual(model.logits([]), [])
    }

    func testRegressionAndPairsAreRefused() throws {
        let values = try data([("good", "1.5"), ("bad", "-2")], labels: ["score"], task: .regression)
        assertError(.invalidOption) { _ = try LinearBaseline.train(values) }
        var pairs = try data([("good film", "pos"), ("bad film", "neg")], labels: ["neg", "pos"])
        pairs.dataset.examples[0].pair = "second text"
        assertError(.invalidOption) { _ = try LinearBaseline.train(pairs) }
    }

    func testInvalidOptions() throws {
        let train = try data([("good film", "pos"), ("bad film", "neg")], labels: ["neg", "pos"])
        let broken: [(inout LinearBaselineOptions) -> Void] = [
            { $0.c = 0 }, { $0.c = .nan }, { $0.minDF = 0 }, { $0.maxFeatures = 0 }, { $0.maxIterations = 0 },
            { $0.tolerance = -1 }, { $0.wordNgrams = 0...2 }, { $0.charNgrams = 0...3 }, { $0.threads = 0 },
        ]
        for breakIt in broken {
            var options = LinearBaselineOptions()
            options.minDF = 1
            breakIt(&options)
            assertError(.invalidOption) { _ = try LinearBaseline.train(train, options: options) }
        }
    }

    func testValidationWithOtherLabelsIsRefused() throws {
        let train = try data([("good film", "pos"), ("bad film", "neg")], labels: ["neg", "pos"])
        let other = try data([("fine", "b")], labels: ["a", "b"])
        var options = LinearBaselineOptions()
        options.minDF = 1
        assertError(.invalidOption) { _ = try LinearBaseline.train(train, validation: other, options: options) }
    }

    /// A label no training text has: OneVsRestClassifier would predict a constant; so do we,
    /// with a finite logit.
    func testMultiLabelWithAnAbsentLabel() throws {
        let train = try data([("good film", "a"), ("bad film", "b"), ("good plot", "a|b"), ("bad plot", "")],
                             labels: ["a", "b", "never"], task: .multiLabel)
        var options = LinearBaselineOptions()
        options.minDF = 1
        let model = try LinearBaseline.train(train, options: options)
        XCTAssertEqual(model.report?.solver.map(\.constant), [false, false, true])
        let p = model.probabilities(["good film"])[0]
        XCTAssertLessThan(p[2], 0.5)
        XCTAssertTrue(model.logits(["anything"])[0].allSatisfy(\.isFinite))
    }

    /// The public route a job takes: files → TrainingData → train → metrics.
    func testTrainFromFiles() throws {
        let dir = try temporaryDirectory(self)
        let train = dir.appendingPathComponent("train.tsv"), dev = dir.appendingPathComponent("dev.tsv")
        let good = ["a good film", "great acting and a good plot", "good fun", "a great cast"]
        let bad = ["a bad film", "terrible acting and a bad plot", "bad fun", "a dull cast"]
        let rows = (0..<10).flatMap { i in [(good[i % 4] + " \(i)", "positive"), (bad[i % 4] + " \(i)", "negative")] }
        try ("text\tlabel\n" + rows.map { "\($0.0)\t\($0.1)" }.joined(separator: "\n") + "\n").write(to: train, atomically: true, encoding: .utf8)
        try "text\tlabel\na good cast\tpositive\na dull plot\tnegative\n".write(to: dev, atomically: true, encoding: .utf8)
        let data = try TrainingData.load(train: train, validation: dev)
        let model = try LinearBaseline.train(data)
        let report = try XCTUnwrap(model.report)
        XCTAssertEqual(report.validation?.accuracy, 1)
        XCTAssertEqual(report.validation?.examples, 2)
        XCTAssertNotNil(report.validation?.rocAUC)
        XCTAssertTrue(report.converged)
        XCTAssertEqual(model.evaluate(data.validation).accuracy, 1)
    }
}
