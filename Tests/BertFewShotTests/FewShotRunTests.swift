import BertCore
@testable import BertFewShot
import BertPipeline
import BertTraining
import Foundation
import XCTest

/// Few-shot end to end on MiniLM: 8 reviews per class, SetFit's recipe, then the directory is
/// reloaded and served like any classifier.
final class FewShotRunTests: XCTestCase {
    private static let subjects = ["the film", "the meal", "this book", "the concert", "our trip", "the service", "the hotel",
                                   "the album", "the game", "the lecture", "the play", "the museum"]
    private static let positive = ["wonderful", "delightful", "excellent", "brilliant", "superb", "lovely", "fantastic", "charming"]
    private static let negative = ["awful", "dreadful", "terrible", "horrible", "boring", "miserable", "dull", "disappointing"]

    /// Training: subjects 0–7 with adjectives 0–7; validation: subjects 8–11 with every adjective.
    private func data() throws -> (TrainingData, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func rows(_ pairs: [(Int, Int)]) -> String {
            var lines = ["text\tlabel"]
            for (s, a) in pairs {
                lines.append("\(Self.subjects[s]) was \(Self.positive[a])\tpositive")
                lines.append("\(Self.subjects[s]) was \(Self.negative[a])\tnegative")
            }
            return lines.joined(separator: "\n") + "\n"
        }
        try rows((0..<8).map { ($0, $0) }).write(to: dir.appendingPathComponent("train.tsv"), atomically: true, encoding: .utf8)
        try rows((8..<12).flatMap { s in (0..<8).map { (s, $0) } }).write(to: dir.appendingPathComponent("dev.tsv"), atomically: true, encoding: .utf8)
        let data = try TrainingData.load(train: dir.appendingPathComponent("train.tsv"), validation: dir.appendingPathComponent("dev.tsv"))
        return (data, dir)
    }

    /// Mean cosine of same-class pairs minus that of different-class pairs, over the texts.
    private func separation(_ model: TransformerModel, _ text: TextModel, _ data: LabelledDataset) throws -> Float {
        let vectors = try model.embed(text.batch(try data.examples.map { try text.prepare($0.text) }), workspace: model.makeWorkspace())
        var same: (Float, Int) = (0, 0), different: (Float, Int) = (0, 0)
        for i in vectors.indices {
            for j in vectors.indices where j > i {
                let cos = zip(vectors[i], vectors[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                if data.labels[i] == data.labels[j] { same = (same.0 + cos, same.1 + 1) } else { different = (different.0 + cos, different.1 + 1) }
            }
        }
        return same.0 / Float(same.1) - different.0 / Float(different.1)
    }

    func testTrainsServesAndReloads() throws {
        let base = try miniLMDirectory()
        let (data, dir) = try data()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = FewShotOptions()
        options.epochs = 2
        var phases: [FewShotRun.Progress.Phase] = []
        let baseText = try TextModel(directory: base)
        let before = try separation(baseText.model, baseText, data.validation)
        let result = try FewShotRun.train(baseModel: base, data: data, options: options) { p in
            if phases.last != p.phase { phases.append(p.phase) }
        }
        let report = result.report
        XCTAssertEqual(phases, [.training, .head, .evaluating])
        XCTAssertEqual(report.examplesPerClass, [8, 8])
        XCTAssertEqual(report.pairs, 2 * 72, "16 texts: 72 positive pairs (2 × 8·9/2), 64 negative oversampled to 72")
        XCTAssertEqual(report.steps, 2 * 9)
        XCTAssertEqual(report.losses.count, report.steps)

        // The contrastive objective did its job: texts of a class moved together, on texts it never saw.
        let after = try separation(result.model, baseText, data.validation)
        print(String(format: "validation separation (same − different class cosine): %.3f before, %.3f after; losses %.4f → %.4f",
                     before, after, report.losses.prefix(4).reduce(0, +) / 4, report.losses.suffix(4).reduce(0, +) / 4))
        XCTAssertGreaterThan(after, before + 0.05)
        let validation = try XCTUnwrap(report.validation)
        XCTAssertGreaterThanOrEqual(validation.accuracy, 0.9, "unseen subjects: \(validation.summary)")

        // The directory: a bare encoder for transformers, a classifier for bertd.
        let out = dir.appendingPathComponent("model")
        try FewShotCheckpoint.write(result, baseModel: base, to: out)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["BertModel"])
        XCTAssertEqual((config["embedding_head"] as? [String: Any])?["pooling"] as? String, "mean")
        for name in ["model.safetensors", "embedding_head.safetensors", "few_shot_report.json", "README.md", "vocab.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name)
        }
        let weights = try SafetensorsFile(path: out.appendingPathComponent("model.safetensors").path)
        XCTAssertNotNil(weights.tensors["embeddings.word_embeddings.weight"], "the bare encoder's names")
        XCTAssertFalse(weights.tensors.keys.contains { $0.hasPrefix("classifier") })

        let served = try TextModel(directory: out)
        XCTAssertTrue(served.canClassify)
        XCTAssertEqual(served.labels, ["negative", "positive"])
        let texts = ["the opera was superb", "the opera was dreadful"]
        let inputs = try texts.map { try served.prepare($0) }
        let reloaded = try served.classify(inputs, workspace: served.makeWorkspace())
        let inMemory = try result.model.classify(served.batch(inputs), workspace: result.model.makeWorkspace())
        for (a, b) in zip(reloaded, inMemory) {
            for (x, y) in zip(a.logits, b) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        }
        XCTAssertEqual(reloaded.map(\.label), ["positive", "negative"])
        XCTAssertEqual(reloaded[0].scores.map(\.probability).reduce(0, +), 1, accuracy: 1e-5, "softmax scores")

        // Explained like a classifier on [CLS]: the endpoint logits are the served ones, the
        // attributions add up to the logit's change (completeness), attention maps carry the logits.
        let explainer = Explainer(model: served.model)
        let encoding = inputs[0].encoding
        let run = try explainer.makeRun(ids: encoding.ids, typeIds: encoding.typeIds, special: encoding.specialTokensMask, steps: 128)
        let explained = try explainer.finish(run)
        for (x, y) in zip(explained.logits, reloaded[0].logits) { XCTAssertEqual(x, y, accuracy: 1e-4) }
        let attribution = try XCTUnwrap(explained.attributions.first)
        XCTAssertEqual(attribution.label, 1, "the predicted label, positive")
        let change = attribution.logit - attribution.baselineLogit
        XCTAssertLessThan(abs(attribution.completenessGap), 0.01 * abs(change) + 1e-5,
                          "Σ attributions \(attribution.tokens.reduce(0, +)) against Δlogit \(change)")
        let maps = try explainer.attention(served.batch([inputs[0]]))
        for (x, y) in zip(maps[0].logits, reloaded[0].logits) { XCTAssertEqual(x, y, accuracy: 1e-4) }

        // A head file that went missing is a clear load error, not a model without labels.
        try FileManager.default.removeItem(at: out.appendingPathComponent("embedding_head.safetensors"))
        XCTAssertThrowsError(try TextModel(directory: out)) { error in
            XCTAssertTrue("\(error)".contains("embedding_head.safetensors"), "\(error)")
        }
    }

    func testWhatFewShotCannotTrainIsRefused() throws {
        let base = try miniLMDirectory()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let multi = dir.appendingPathComponent("multi.tsv")
        try "text\tlabel\na\tx|y\nb\ty\nc\tx\n".write(to: multi, atomically: true, encoding: .utf8)
        var options = DatasetOptions()
        options.task = .multiLabel
        let data = try TrainingData.load(train: multi, validation: multi, options: options)
        XCTAssertThrowsError(try FewShotRun.train(baseModel: base, data: data, options: FewShotOptions())) { error in
            XCTAssertTrue("\(error)".contains("single-label"), "\(error)")
        }
    }
}

/// all-MiniLM-L6-v2 (Deploy/fetch-model.sh): skipped without it, except in CI, where it must be there.
func miniLMDirectory() throws -> URL {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.appendingPathComponent("models/all-MiniLM-L6-v2")
    if FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) { return dir }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("models/all-MiniLM-L6-v2 is missing in CI: Deploy/setup.sh should have fetched it")
    }
    throw XCTSkip("models/all-MiniLM-L6-v2 is absent: run Deploy/fetch-model.sh to enable this test")
}
