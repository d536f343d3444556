import BertCore
import BertTraining
import Foundation
import XCTest

final class LoRATests: XCTestCase {
    private func tiny(_ name: String) throws -> (TransformerModel, TokenBatch, [Int]) {
        let model = try ModelLoader.load(directory: Fixtures.url(name))
        let ref = try Fixtures.safetensors("\(name)/reference.safetensors")
        let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"), typeIds: nil, rows: 3)
        return (model, batch, try ref.integers("input.labels"))
    }

    /// New adapters start with B = 0: the adapted model computes the base model.
    func testFreshAdaptersLeaveTheModelUnchanged() throws {
        let (model, batch, labels) = try tiny("tiny-distilbert")
        let base = try Trainer(model: model).loss(batch, labels: labels)
        let lora = try Trainer(model: model, options: TrainingOptions(lora: LoRAConfig(rank: 4, alpha: 8, targets: LoRATarget.allCases)))
        XCTAssertEqual(try lora.loss(batch, labels: labels).logits, base.logits)
        let a = lora.lora!.parameters.values(named: "base_model.model.distilbert.transformer.layer.1.ffn.lin1.lora_A.default.weight")!
        XCTAssertEqual(a.count, 4 * 32)
        XCTAssertTrue(a.contains { $0 != 0 } && a.allSatisfy { abs($0) <= 1 / Float(32).squareRoot() })
    }

    /// Every target, with LoRA dropout and model dropout: gradients against finite differences.
    func testEveryTargetWithDropout() throws {
        for name in ["tiny-bert", "tiny-roberta", "tiny-distilbert"] {
            let (model, batch, labels) = try tiny(name)
            moveReLUAwayFromItsKink(model)
            let config = LoRAConfig(rank: 4, alpha: 8, dropout: 0.2, targets: LoRATarget.allCases)
            let trainer = try Trainer(model: model, options: TrainingOptions(dropout: DropoutRates(hidden: 0.1, attention: 0.1, classifier: 0.1),
                                                                              seed: 5, lora: config))
            // Non-zero B so that A gets gradient too.
            var rng = SeededGenerator(seed: 9)
            let lora = trainer.lora!
            for spec in lora.layout.specs where spec.name.contains("lora_B") {
                for i in 0..<spec.ref.count { lora.parameters[spec.ref][i] = Float.random(in: -0.2...0.2, using: &rng) }
            }
            print("\(name) LoRA on every projection:")
            try checkDirectionalDerivatives(trainer, batch: batch, labels: labels, groups: trainer.parameterGroups)
        }
    }

    func testWriteAndLoadRoundTrip() throws {
        let (model, _, _) = try tiny("tiny-bert")
        let a = try LoRAAdapters(model: model, config: LoRAConfig(), seed: 1)
        let b = try LoRAAdapters(model: model, config: LoRAConfig(), seed: 2)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-lora-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try a.write(to: url)
        XCTAssertNotEqual(Array(UnsafeBufferPointer(start: a.parameters.base, count: a.parameters.count)),
                          Array(UnsafeBufferPointer(start: b.parameters.base, count: b.parameters.count)))
        try b.load(SafetensorsFile(path: url.path))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: a.parameters.base, count: a.parameters.count)),
                       Array(UnsafeBufferPointer(start: b.parameters.base, count: b.parameters.count)))
        let other = try LoRAAdapters(model: model, config: LoRAConfig(rank: 4), seed: 1)
        XCTAssertThrowsError(try other.load(SafetensorsFile(path: url.path))) { XCTAssertTrue("\($0)".contains("expected [4, 32]"), "\($0)") }
    }
}

/// Merging folds the adapters into the weights: the plain model then gives the adapted
/// model's logits (PEFT's merge_and_unload).
final class LoRAMergeTests: XCTestCase {
    func testMergedModelMatchesAdaptedForward() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let trainer = try Trainer(model: model, options: TrainingOptions(lora: LoRAConfig(rank: 4, alpha: 8, targets: [.query, .value])))
        let lora = try XCTUnwrap(trainer.lora)
        // Non-zero B so the adapters change the output.
        for spec in lora.layout.specs where spec.name.contains("lora_B") {
            let p = lora.parameters[spec.ref]
            for i in 0..<spec.ref.count { p[i] = Float((i * 37) % 11 - 5) * 0.01 }
        }
        let batch = TokenBatch(sequences: [[101, 7, 9, 30, 102], [101, 11, 102]])
        let adapted = try trainer.loss(batch, labels: [0, 1]).logits
        let plain = try model.classify(batch, workspace: model.makeWorkspace())
        XCTAssertGreaterThan(maxAbsDifference(adapted.flatMap { $0 }, plain.flatMap { $0 }), 1e-4, "the adapters must matter")
        try lora.merge(into: model)
        let merged = try model.classify(batch, workspace: model.makeWorkspace())
        XCTAssertLessThanOrEqual(maxAbsDifference(adapted.flatMap { $0 }, merged.flatMap { $0 }), 1e-5)
    }
}
