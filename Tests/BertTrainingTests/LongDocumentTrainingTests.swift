import BertCore
import BertTokenizers
@testable import BertTraining
import Foundation
import XCTest

/// Long documents end to end on MiniLM: the word that decides the label comes after ~40 tokens
/// of filler. Truncated at 32 tokens, every text looks the same and nothing can be learned;
/// trained on windows of 32 (the loss on each document's aggregated logits), the model learns
/// it, writes `long_documents` into config.json, and evaluation reads the windows too.
final class LongDocumentTrainingTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("long-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private static let filler = "the report lists every item in the order it arrived at the office on monday morning, "
        + "then the clerk files the copies in the grey cabinet beside the window and locks the drawer; "

    private func data(_ name: String, count: Int, offset: Int) throws -> URL {
        var rows = "text\tlabel\n"
        for i in 0..<count {
            let (verdict, label) = [("it was wonderful and i loved it", "pos"), ("it was terrible and i hated it", "neg")][i % 2]
            rows += "\(Self.filler)note \(i + offset): \(verdict)\t\(label)\n"
        }
        let url = scratch.appendingPathComponent(name)
        try rows.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func options(windows: LongDocumentPolicy?) -> FineTuneOptions {
        var o = FineTuneOptions()
        o.epochs = 4
        o.batchSize = 8
        o.learningRate = 1e-4
        o.seed = 5
        o.maxLength = 32
        o.windows = windows
        o.selectionMetric = .accuracy
        return o
    }

    func testWindowsLearnWhatTruncationCannotSee() throws {
        let model = try miniLMDirectory()
        let data = try TrainingData.load(train: try data("train.tsv", count: 48, offset: 0),
                                         validation: try data("validation.tsv", count: 16, offset: 100))
        let truncatedRun = scratch.appendingPathComponent("truncated")
        let truncated = try FineTuneRun(modelDirectory: model, data: data, options: options(windows: nil), output: truncatedRun).run()
        let windowedRun = scratch.appendingPathComponent("windows")
        let policy = LongDocumentPolicy(window: 32, overlap: 8, aggregation: .max)
        let windowed = try FineTuneRun(modelDirectory: model, data: data, options: options(windows: policy), output: windowedRun).run()
        let truncatedAccuracy = try XCTUnwrap(truncated.finalMetrics?.accuracy)
        let windowedAccuracy = try XCTUnwrap(windowed.finalMetrics?.accuracy)
        print("validation accuracy: truncated at 32 tokens \(truncatedAccuracy), windows of 32 \(windowedAccuracy)")
        XCTAssertEqual(truncatedAccuracy, 0.5, accuracy: 1e-9, "truncated, every text is the same filler")
        XCTAssertGreaterThanOrEqual(windowedAccuracy, 0.9)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(windowed.data?.meanWindows), 2)

        // The checkpoint serves long texts as it was trained; the truncated one does not.
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: windowedRun.appendingPathComponent("config.json"))) as! [String: Any]
        let written = try XCTUnwrap(config["long_documents"] as? [String: Any])
        XCTAssertEqual(written["window"] as? Int, 32)
        XCTAssertEqual(written["stride"] as? Int, 8)
        XCTAssertEqual(written["aggregate"] as? String, "max")
        XCTAssertNil(try ModelConfig(contentsOf: truncatedRun.appendingPathComponent("config.json")).longDocuments)
        let reloaded = try ModelLoader.load(directory: windowedRun)
        XCTAssertEqual(reloaded.config.longDocuments, policy)

        // Evaluating the checkpoint with its windows gives the run's own validation figures.
        let tokenizer = try Tokenizer(directory: windowedRun)
        let validation = try TokenizedDataset(data.validation, tokenizer: tokenizer, windows: policy)
        let (metrics, _) = try Evaluation.run(validation, model: reloaded)
        XCTAssertEqual(metrics.accuracy, windowedAccuracy, accuracy: 1e-9)
    }

    func testBadWindowSettingsAreClearErrors() throws {
        let data = try TrainingData.load(train: try data("train.tsv", count: 8, offset: 0), validation: try data("v.tsv", count: 4, offset: 50))
        let tooWide = LongDocumentPolicy(window: 600, overlap: 16, aggregation: .mean)
        XCTAssertThrowsError(try FineTuneRun(modelDirectory: tinyBertSource, data: data, options: options(windows: tooWide),
                                             output: scratch.appendingPathComponent("x")).run()) { error in
            XCTAssertTrue("\(error)".contains("window"), "\(error)")
        }
        for (settings, mention) in [(["window": TrainingSettings.Value.integer(4)], "window"),
                                    (["window": .integer(32), "stride": .integer(30)], "stride"),
                                    (["aggregate": .string("median")], "aggregate")] {
            XCTAssertThrowsError(try TrainingSettings(settings).options(classCounts: [1, 1])) { error in
                XCTAssertTrue("\(error)".contains(mention), "\(error)")
            }
        }
        let defaults = try TrainingSettings(["aggregate": .string("weighted")]).options(classCounts: [1, 1]).windows
        XCTAssertEqual(defaults?.resolved(maxSequenceLength: 512), LongDocumentPolicy(window: 512, overlap: 128, aggregation: .weighted))
    }
}
