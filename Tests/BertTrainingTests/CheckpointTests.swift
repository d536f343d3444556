@testable import BertTraining
import BertCore
import Foundation
import XCTest

/// The tiny BERT fixture with its vocab.txt (the BertCoreTests copy has the tokenizer file).
let tinyBertSource = packageRoot.appendingPathComponent("Tests/BertCoreTests/Fixtures/tiny-bert")

func jsonObject(_ url: URL) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

final class CheckpointTests: XCTestCase {
    let batch = TokenBatch(sequences: [[2, 17, 99, 41, 3], [2, 250, 3], [2, 5, 6, 7, 8, 9, 10, 3]])

    func testCheckpointLoadsBackWithIdenticalLogitsAndConfig() throws {
        let dir = try scratchDirectory(self)
        let model = try ModelLoader.load(directory: tinyBertSource)
        // Perturb the weights, as training would, so a checkpoint of the source would not pass.
        for i in 0..<model.parameters.count { model.parameters.base[i] += Float(i % 7) * 1e-3 }
        let out = dir.appendingPathComponent("model")
        let checkpoint = try ModelCheckpoint(model: model, labels: ["bad", "meh", "good"], sourceDirectory: tinyBertSource)
        try checkpoint.write(to: out)

        let loaded = try ModelLoader.load(directory: out)
        XCTAssertEqual(loaded.labels, ["bad", "meh", "good"])
        let expected = try model.classify(batch, workspace: model.makeWorkspace())
        XCTAssertEqual(try loaded.classify(batch, workspace: loaded.makeWorkspace()), expected, "bit-identical logits")

        let config = try jsonObject(out.appendingPathComponent("config.json"))
        let source = try jsonObject(tinyBertSource.appendingPathComponent("config.json"))
        XCTAssertEqual(config["architectures"] as? [String], ["BertForSequenceClassification"])
        XCTAssertEqual(config["id2label"] as? [String: String], ["0": "bad", "1": "meh", "2": "good"])
        XCTAssertEqual(config["label2id"] as? [String: Int], ["bad": 0, "meh": 1, "good": 2])
        XCTAssertEqual(config["num_labels"] as? Int, 3)
        for key in source.keys where !["id2label", "label2id", "architectures"].contains(key) {
            XCTAssertNotNil(config[key], "\(key) was dropped")
            if let a = source[key] as? NSObject, let b = config[key] as? NSObject { XCTAssertEqual(a, b, key) }
        }
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("vocab.txt")),
                       try Data(contentsOf: tinyBertSource.appendingPathComponent("vocab.txt")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("tokenizer.json").path))
    }

    /// The names, shapes and dtypes are exactly those transformers saved for the same model.
    func testTensorNamesAndShapesMatchTransformers() throws {
        let dir = try scratchDirectory(self)
        for family in ["tiny-bert", "tiny-distilbert", "tiny-roberta"] {
            let source = Fixtures.url(family)
            let model = try ModelLoader.load(directory: source)
            let out = dir.appendingPathComponent(family)
            try ModelCheckpoint(model: model, sourceDirectory: source).write(to: out)
            let ours = try SafetensorsFile(path: out.appendingPathComponent("model.safetensors").path)
            let theirs = try SafetensorsFile(path: source.appendingPathComponent("model.safetensors").path)
            let hfNames = Set(theirs.tensors.keys).subtracting(["bert.embeddings.position_ids", "roberta.embeddings.position_ids"])
            XCTAssertEqual(Set(ours.tensors.keys), hfNames, family)
            for (name, info) in ours.tensors {
                XCTAssertEqual(info.shape, theirs.tensors[name]?.shape, "\(family) \(name)")
                XCTAssertEqual(info.dtype, .f32)
                XCTAssertEqual(try ours.floats(name), try theirs.floats(name), "\(family) \(name)")
            }
            XCTAssertEqual(ours.metadata["format"], "pt")
            let config = try jsonObject(out.appendingPathComponent("config.json"))
            XCTAssertEqual((config["architectures"] as? [String])?.first, model.family.sequenceClassificationArchitecture)
        }
    }

    func testInterruptedWriteLeavesTheOldCheckpointIntact() throws {
        let dir = try scratchDirectory(self)
        let model = try ModelLoader.load(directory: tinyBertSource)
        let out = dir.appendingPathComponent("ckpt")
        try ModelCheckpoint(model: model, labels: ["a", "b", "c"], sourceDirectory: tinyBertSource).write(to: out)

        // A writer killed mid-write (its pid is gone) left a half-filled temporary directory.
        let stale = dir.appendingPathComponent("ckpt.tmp-999999999-42")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        try Data("{\"trunc".utf8).write(to: stale.appendingPathComponent("config.json"))
        XCTAssertEqual(try ModelLoader.load(directory: out).labels, ["a", "b", "c"], "the old checkpoint still loads")

        // A write that fails halfway (here: an unreadable source config) changes nothing either.
        let brokenSource = dir.appendingPathComponent("broken")
        try FileManager.default.createDirectory(at: brokenSource, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ModelCheckpoint(model: model, labels: ["x", "y", "z"], sourceDirectory: brokenSource).write(to: out)) {
            XCTAssertEqual(($0 as? TrainingDataError)?.code, .invalidCheckpoint)
        }
        XCTAssertEqual(try ModelLoader.load(directory: out).labels, ["a", "b", "c"])

        // The next successful write replaces the directory in one step and sweeps the debris.
        try ModelCheckpoint(model: model, labels: ["x", "y", "z"], sourceDirectory: tinyBertSource).write(to: out)
        XCTAssertEqual(try ModelLoader.load(directory: out).labels, ["x", "y", "z"])
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("ckpt") }
        XCTAssertEqual(left, ["ckpt"], "no temporary directory remains")
    }

    func testResumeStateRoundTrips() throws {
        let dir = try scratchDirectory(self)
        let model = try ModelLoader.load(directory: tinyBertSource)
        let layout = model.tree.layout
        let trainable = layout.specs.filter { !$0.name.contains("embeddings") }
        let (m, v) = (ParameterArena(layout: layout), ParameterArena(layout: layout))
        for i in 0..<m.count { m.base[i] = Float(i % 101) * 0.01 - 0.5; v.base[i] = Float(i % 13) * 1e-6 }
        var stopping = try EarlyStopping(metric: .macroF1, patience: 3)
        _ = stopping.update(value: 0.7, epoch: 1)
        _ = stopping.update(value: 0.6, epoch: 2)
        let state = TrainerState(epoch: 2, stepInEpoch: 5, globalStep: 37, seed: 0xFFFF_FFFF_FFFF_FFF1, dropoutPass: 74,
                                 generatorState: 0x8000_0000_0000_0001, earlyStopping: stopping, bestMetric: 0.7,
                                 bestCheckpoint: "checkpoint-epoch-1")
        let resume = ResumeState(trainer: state, optimizerStep: 37, moments: [OptimizerMoments(specs: trainable, firstMoment: m, secondMoment: v)])
        let out = dir.appendingPathComponent("checkpoint-37")
        var checkpoint = try ModelCheckpoint(model: model, sourceDirectory: tinyBertSource)
        checkpoint.resume = resume
        try checkpoint.write(to: out)

        let (m2, v2) = (ParameterArena(layout: layout), ParameterArena(layout: layout))
        let read = try ResumeState.read(from: out, into: [OptimizerMoments(specs: trainable, firstMoment: m2, secondMoment: v2)])
        XCTAssertEqual(read.trainer, state)
        XCTAssertEqual(read.optimizerStep, 37)
        for spec in trainable {
            XCTAssertEqual(m2.values(spec.ref), m.values(spec.ref), spec.name)
            XCTAssertEqual(v2.values(spec.ref), v.values(spec.ref), spec.name)
        }
        let frozen = layout.spec(named: "bert.embeddings.word_embeddings.weight")!
        XCTAssertTrue(m2.values(frozen.ref).allSatisfy { $0 == 0 }, "frozen tensors have no moments to restore")

        // A checkpoint of another training method does not fit: every mismatch is named.
        XCTAssertThrowsError(try ResumeState.read(from: out, into: [OptimizerMoments(specs: layout.specs, firstMoment: m2, secondMoment: v2)])) {
            let message = ($0 as? TrainingDataError)?.message ?? ""
            XCTAssertTrue(message.contains("missing exp_avg.bert.embeddings.word_embeddings.weight"), message)
        }
        XCTAssertThrowsError(try ResumeState.read(from: dir, into: [])) {
            XCTAssertEqual(($0 as? TrainingDataError)?.code, .invalidCheckpoint)
        }
    }

    func testPEFTAdapterNamesConfigAndRoundTrip() throws {
        let dir = try scratchDirectory(self)
        let model = try ModelLoader.load(directory: tinyBertSource)
        let lora = try LoRAAdapters(model: model, config: LoRAConfig(rank: 4, alpha: 8, dropout: 0.1, targets: [.query, .value]), seed: 3)
        for i in 0..<lora.parameters.count { lora.parameters.base[i] += Float(i % 5) * 0.01 }
        let out = dir.appendingPathComponent("adapter")
        try PEFTAdapter(lora: lora, model: model, baseModelNameOrPath: "tiny-bert").write(to: out)

        let file = try SafetensorsFile(path: out.appendingPathComponent("adapter_model.safetensors").path)
        XCTAssertEqual(file.tensors["base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"]?.shape, [4, 32])
        XCTAssertEqual(file.tensors["base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight"]?.shape, [32, 4])
        XCTAssertEqual(file.tensors["base_model.model.classifier.weight"]?.shape, [3, 32])
        XCTAssertEqual(file.tensors["base_model.model.classifier.bias"]?.shape, [3])
        XCTAssertEqual(file.tensors.count, 2 * 2 * 2 + 2)
        XCTAssertFalse(file.tensors.keys.contains { $0.contains(".default") }, "PEFT saves without the adapter name")

        let config = try jsonObject(out.appendingPathComponent("adapter_config.json"))
        XCTAssertEqual(config["peft_type"] as? String, "LORA")
        XCTAssertEqual(config["task_type"] as? String, "SEQ_CLS")
        XCTAssertEqual(config["r"] as? Int, 4)
        XCTAssertEqual(config["lora_alpha"] as? Double, 8)
        XCTAssertEqual(config["lora_dropout"] as? Double ?? 0, 0.1, accuracy: 1e-6)
        XCTAssertEqual(config["target_modules"] as? [String], ["query", "value"])
        XCTAssertEqual(config["modules_to_save"] as? [String], ["classifier"])
        XCTAssertEqual(config["base_model_name_or_path"] as? String, "tiny-bert")

        let fresh = try LoRAAdapters(model: model, config: lora.config, seed: 99)
        let freshModel = try ModelLoader.load(directory: tinyBertSource)
        freshModel.parameters.zero()
        try PEFTAdapter.read(from: out, into: fresh, model: freshModel)
        XCTAssertEqual(fresh.parameters.values(fresh.layout.specs[0].ref), lora.parameters.values(lora.layout.specs[0].ref))
        XCTAssertEqual(freshModel.parameters.values(named: "classifier.weight"), model.parameters.values(named: "classifier.weight"))
    }

    /// Targets whose leaf names are ambiguous: the shortest unambiguous suffix, or a regex.
    func testPEFTTargetModulesAreUnambiguous() throws {
        let bert = try ModelLoader.load(directory: tinyBertSource)
        func targets(_ model: TransformerModel, _ t: [LoRATarget]) throws -> Any {
            PEFTAdapter(lora: try LoRAAdapters(model: model, config: LoRAConfig(targets: t), seed: 0), model: model,
                        baseModelNameOrPath: "x").targetModules()
        }
        XCTAssertEqual(try targets(bert, [.query, .attentionOutput, .intermediate]) as? [String],
                       ["query", "attention.output.dense", "intermediate.dense"])
        let regex = try targets(bert, [.query, .output]) as? String
        XCTAssertEqual(regex, #".*\.layer\.\d+\.(attention\.self\.query|output\.dense)"#)
        let pattern = try NSRegularExpression(pattern: "^(?:" + regex! + ")$")
        func matches(_ s: String) -> Bool { pattern.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil }
        XCTAssertTrue(matches("bert.encoder.layer.1.output.dense"))
        XCTAssertFalse(matches("bert.encoder.layer.1.attention.output.dense"))
        XCTAssertFalse(matches("bert.pooler.dense"))
        let distil = try ModelLoader.load(directory: Fixtures.url("tiny-distilbert"))
        XCTAssertEqual(try targets(distil, [.query, .output]) as? [String], ["q_lin", "lin2"])
        let adapter = PEFTAdapter(lora: try LoRAAdapters(model: distil, config: LoRAConfig(), seed: 0), model: distil, baseModelNameOrPath: "d")
        XCTAssertEqual(adapter.configJSON()["modules_to_save"] as? [String], ["pre_classifier", "classifier"])
    }
}
