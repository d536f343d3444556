import BertCore
import BertTokenizers
@testable import BertTraining
import Foundation
import XCTest

/// Multi-label and regression runs end to end on the tiny BERT: data with label sets (an empty
/// one included) or numbers → training → a checkpoint whose config.json says how to serve it
/// (problem_type, tuned decision thresholds) → metrics of the task; bad rows name file and line.
final class TaskTrainingTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tasks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func file(_ name: String, _ text: String) throws -> URL {
        let url = scratch.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private var options: FineTuneOptions {
        var o = FineTuneOptions()
        o.epochs = 3
        o.batchSize = 4
        o.learningRate = 1e-3
        o.seed = 3
        return o
    }

    func testMultiLabelRunWritesItsTaskAndTunedThresholds() throws {
        // Label "neg" whenever the first word is "bad", "pos" when it is "good"; both, or none.
        var rows = "text\tlabel\n"
        for i in 0..<40 {
            let labels = ["neg", "pos", "neg|pos", ""][i % 4]
            let first = ["bad", "good", "bad good", "plain"][i % 4]
            rows += "\(first) text number \(i)\t\(labels)\n"
        }
        var datasetOptions = DatasetOptions()
        datasetOptions.task = .multiLabel
        let data = try TrainingData.load(train: try file("train.tsv", rows), options: datasetOptions, validationFraction: 0.25)
        XCTAssertEqual(data.labelSet.names, ["neg", "pos"])
        XCTAssertTrue(data.train.labelSets.contains([]), "an empty label set is a row like any other")
        let out = scratch.appendingPathComponent("run")
        let report = try FineTuneRun(modelDirectory: tinyBertSource, data: data, options: options, output: out).run()
        XCTAssertEqual(report.task, .multiLabel)
        let metrics = try XCTUnwrap(report.finalMetrics?.multiLabel)
        XCTAssertEqual(metrics.perLabel.map(\.label), ["neg", "pos"])
        XCTAssertNotNil(report.finalMetricsAtTunedThresholds?.multiLabel)
        XCTAssertEqual(report.curves?.roc.map(\.label), ["neg", "pos"], "a ROC curve per label")
        let svg = try String(contentsOf: out.appendingPathComponent("training_report.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("ROC (validation)") && svg.contains("Precision–recall") && svg.contains("Reliability (ECE"))
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["problem_type"] as? String, "multi_label_classification")
        let thresholds = try XCTUnwrap(config["decision_thresholds"] as? [String: Double])
        XCTAssertEqual(Set(thresholds.keys), ["neg", "pos"])
        // A model card: Hugging Face front matter, the labels with their thresholds, the evaluation.
        let card = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(card.hasPrefix("---\nlibrary_name: transformers\npipeline_tag: text-classification\nbase_model: tiny-bert\n"), card)
        XCTAssertTrue(card.contains("- multi-label-classification") && card.contains("(decision threshold "), card)
        XCTAssertTrue(card.contains("| micro F1 |") && card.contains("At the tuned decision thresholds"), card)
        // The checkpoint loads and is served with a sigmoid and its thresholds.
        let model = try ModelLoader.load(directory: out)
        XCTAssertEqual(model.config.scoring, .sigmoid)
        XCTAssertEqual(Set(model.config.decisionThresholds.keys), ["neg", "pos"])

        // LoRA with --merge-lora: merged/ is served as the run's checkpoint is, multi-label with
        // the same thresholds (it was written single-label before).
        var lora = options
        lora.method = .lora(LoRAConfig(rank: 4, alpha: 8, dropout: 0, targets: [.query, .value]))
        lora.mergeLoRA = true
        let loraOut = scratch.appendingPathComponent("lora")
        _ = try FineTuneRun(modelDirectory: tinyBertSource, data: data, options: lora, output: loraOut).run()
        let kept = try ModelLoader.load(directory: loraOut)
        let merged = try ModelLoader.load(directory: loraOut.appendingPathComponent(FineTuneRun.mergedName))
        XCTAssertEqual(merged.config.scoring, .sigmoid)
        XCTAssertEqual(merged.config.problemType, "multi_label_classification")
        XCTAssertEqual(merged.config.decisionThresholds, kept.config.decisionThresholds)
        XCTAssertFalse(merged.config.decisionThresholds.isEmpty)
    }

    /// `--tune-threshold` on a binary single-label run: label 1's threshold maximises its F1 on
    /// the validation set, is reported with the metrics at it, and is written for serving.
    func testBinaryRunTunesItsThreshold() throws {
        var rows = "text\tlabel\n"
        for i in 0..<48 { rows += "text number \(i) \(String(repeating: "word ", count: i % 7))\t\(["neg", "pos"][i % 3 == 0 ? 1 : 0])\n" }
        let data = try TrainingData.load(train: try file("train.tsv", rows), validationFraction: 0.5)
        var o = options
        o.tuneThreshold = true
        let out = scratch.appendingPathComponent("binary")
        let report = try FineTuneRun(modelDirectory: tinyBertSource, data: data, options: o, output: out).run()
        let threshold = try XCTUnwrap(report.tunedThresholds?["pos"])
        XCTAssertEqual(report.tunedThresholds?.count, 1, "one threshold, on label 1")
        let atThreshold = try XCTUnwrap(report.finalMetricsAtTunedThresholds)
        let plain = try XCTUnwrap(report.finalMetrics)
        XCTAssertGreaterThanOrEqual(atThreshold.perClass[1].f1, plain.perClass[1].f1, "the tuned threshold is the F1-best one")
        let config = try ModelConfig(contentsOf: out.appendingPathComponent("config.json"))
        XCTAssertEqual(Double(try XCTUnwrap(config.decisionThresholds["pos"])), threshold, accuracy: 1e-6)
        XCTAssertEqual(config.scoring, .softmax, "still a softmax model")
    }

    func testRegressionRunServesAValue() throws {
        var rows = "text\tscore\n"
        for i in 0..<32 { rows += "sample \(i)\t\(Double(i % 5) * 0.75 - 1)\n" }
        var datasetOptions = DatasetOptions(labelColumn: "score")
        datasetOptions.task = .regression
        let data = try TrainingData.load(train: try file("train.tsv", rows), options: datasetOptions, validationFraction: 0.25)
        XCTAssertEqual(data.labelSet.names, ["score"])
        let out = scratch.appendingPathComponent("run")
        let report = try FineTuneRun(modelDirectory: tinyBertSource, data: data, options: options, output: out).run()
        let r = try XCTUnwrap(report.finalMetrics?.regression)
        XCTAssertEqual(r.examples, data.validation.count)
        XCTAssertEqual(report.finalMetrics!.loss, r.mse, accuracy: 1e-12)
        let model = try ModelLoader.load(directory: out)
        XCTAssertEqual(model.config.problemType, "regression")
        XCTAssertEqual(model.numLabels, 1)
        XCTAssertEqual(model.config.scoring, .identity)
        let card = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(card.contains("| pearson |") && card.contains("- regression"), card)
        XCTAssertEqual(report.curves?.scatter.count, data.validation.count)
        let svg = try String(contentsOf: out.appendingPathComponent("training_report.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("Predicted against true"))
    }

    /// A similarity score over sentence pairs (STS-style, 0–5): pairs load, train and evaluate.
    func testRegressionOverSentencePairs() throws {
        var rows = "first\tsecond\tsimilarity\n"
        for i in 0..<24 { rows += "sentence \(i)\tanother sentence \(i % 3)\t\(Double(i % 6))\n" }
        var datasetOptions = DatasetOptions(textColumn: "first", pairColumn: "second", labelColumn: "similarity")
        datasetOptions.task = .regression
        let data = try TrainingData.load(train: try file("pairs.tsv", rows), options: datasetOptions, validationFraction: 0.25)
        XCTAssertTrue(data.train.examples.allSatisfy { $0.pair != nil })
        let out = scratch.appendingPathComponent("run")
        let report = try FineTuneRun(modelDirectory: tinyBertSource, data: data, options: options, output: out).run()
        XCTAssertNotNil(report.finalMetrics?.regression)
        // Served on a pair, the model answers one value.
        let model = try ModelLoader.load(directory: out)
        let tokenizer = try Tokenizer(directory: out)
        let e = tokenizer.encode("sentence 1", pair: "another sentence 1")
        XCTAssertTrue(e.typeIds.contains(1), "the pair's tokens have type 1")
        let outputs = try model.classify(TokenBatch(sequences: [e.ids], typeIds: [e.typeIds]), workspace: model.makeWorkspace())
        XCTAssertEqual(outputs[0].count, 1)
        XCTAssertTrue(outputs[0][0].isFinite)
    }

    func testBadRowsNameTheirFileAndLine() throws {
        var multi = DatasetOptions()
        multi.task = .multiLabel
        let unknown = try file("multi.tsv", "text\tlabel\na\tneg\nb\tneg|maybe\n")
        XCTAssertThrowsError(try Dataset.load(unknown, options: multi).labelled(with: LabelSet(names: ["neg", "pos"]), task: .multiLabel)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("multi.tsv") && message.contains("3") && message.contains("maybe"), message)
        }
        var regression = DatasetOptions()
        regression.task = .regression
        let text = try file("values.tsv", "text\tlabel\na\t1.5\nb\tabout three\n")
        XCTAssertThrowsError(try TrainingData.load(train: text, options: regression)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("values.tsv") && message.contains("3") && message.contains("not a number"), message)
        }
    }

    /// A loss of another task is refused; the default cross-entropy becomes the task's own loss.
    func testTheLossMustFitTheTask() throws {
        var o = FineTuneOptions()
        XCTAssertEqual(try o.loss(for: .multiLabel), .binaryCrossEntropy(positiveWeights: nil))
        XCTAssertEqual(try o.loss(for: .regression), .meanSquaredError)
        o.loss = .focal(gamma: 2)
        XCTAssertThrowsError(try o.loss(for: .regression))
        let settings = TrainingSettings(["task": .string("multi-label"), "loss": .string("weighted")])
        let balanced = try settings.options(classCounts: [10, 30], examples: 40).loss
        XCTAssertEqual(balanced, .binaryCrossEntropy(positiveWeights: [3, 1 / 3]), "negatives / positives per label")
        XCTAssertThrowsError(try TrainingSettings(["task": .string("regression"), "loss": .string("bce")]).options(classCounts: [1]))
    }
}
