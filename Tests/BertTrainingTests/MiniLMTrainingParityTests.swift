import BertCore
import BertTraining
import XCTest

/// all-MiniLM-L6-v2 with the seeded 3-label head against PyTorch (shared/fixtures/minilm,
/// reduced by Tests/FixtureGenerators/extract.py): 8 sentences, dropout 0. Full fine-tuning (gradients,
/// 10 AdamW steps at lr 5e-5) and PEFT LoRA on query/value (r 8, alpha 16; 10 steps at lr 1e-3).
final class MiniLMTrainingParityTests: XCTestCase {
    private func loadModel() throws -> TransformerModel {
        try ModelLoader.load(directory: try miniLMDirectory(), extraWeights: [Fixtures.url("minilm/classifier_head_init.safetensors")])
    }

    private func batch(_ ref: SafetensorsFile) throws -> (TokenBatch, [Int]) {
        (unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                       typeIds: try ref.integers("input.token_type_ids"), rows: 8), try ref.integers("input.labels"))
    }

    func testFullFineTuning() throws {
        let model = try loadModel()
        let ref = try Fixtures.safetensors("minilm/train_step_full_subset.safetensors")
        let (batch, labels) = try batch(ref)
        let trainer = try Trainer(model: model)
        print("MiniLM full fine-tuning:")
        let out = try trainer.forwardBackward(batch, labels: labels)
        expectClose("loss", [out.loss], try ref.floats("output.loss"), tolerance: 1e-4)
        expectClose("logits", out.logits.flatMap { $0 }, try ref.floats("output.logits"), tolerance: 1e-4)

        var compared = 0
        for key in ref.tensors.keys.sorted() where key.hasPrefix("grad.") && !key.contains("word_embeddings") {
            let name = String(key.dropFirst(5))
            guard let spec = model.tree.layout.spec(named: name) else { XCTFail("no parameter \(name)"); continue }
            let expected = try ref.floats(key)
            // A reduced tensor holds the parameter's leading rows (extract.py).
            let mine = Array(trainer.gradients.values(spec.ref).prefix(expected.count))
            compared += 1
            if name.hasSuffix("attention.self.key.bias") {
                // Analytically zero (a key bias adds the same q·b to every score of a softmax
                // row); both sides hold only rounding noise, so compare absolutely.
                XCTAssertLessThan(maxAbs(expected), 1e-8)
                expectClose(key + " (analytically 0)", mine, expected, tolerance: 1e-8)
                continue
            }
            expectClose(key, mine, expected, tolerance: 1e-4, relative: true)
        }
        // The word-embedding gradient is stored for the rows the batch uses.
        let rowIds = try ref.integers("grad.bert.embeddings.word_embeddings.weight.row_ids")
        let word = model.tree.layout.spec(named: "bert.embeddings.word_embeddings.weight")!.ref
        let h = model.config.hiddenSize
        let all = trainer.gradients.values(word)
        let mine = rowIds.flatMap { all[($0 * h)..<(($0 + 1) * h)] }
        expectClose("grad.word_embeddings (\(rowIds.count) used rows)", mine,
                    try ref.floats("grad.bert.embeddings.word_embeddings.weight.rows"), tolerance: 1e-4, relative: true)
        // ...and every other row is exactly zero.
        let used = Set(rowIds)
        let stray = (0..<model.config.vocabSize).filter { !used.contains($0) && all[($0 * h)..<(($0 + 1) * h)].contains { $0 != 0 } }
        XCTAssertEqual(stray, [], "word rows the batch does not use got gradient")
        XCTAssertEqual(compared, 35, "gradients compared (extract.py keeps 35 besides the word rows)")

        try checkTrajectory(trainer, batch: batch, labels: labels, learningRate: 5e-5, reference: "minilm/train_step_full.json")
    }

    func testLoRA() throws {
        let model = try loadModel()
        let ref = try Fixtures.safetensors("minilm/train_step_lora.safetensors")
        let (batch, labels) = try batch(ref)
        let trainer = try Trainer(model: model, options: TrainingOptions(lora: LoRAConfig(rank: 8, alpha: 16, dropout: 0, targets: [.query, .value])))
        let lora = trainer.lora!
        try lora.load(Fixtures.safetensors("minilm/lora_init.safetensors"))
        print("MiniLM LoRA:")
        let out = try trainer.forwardBackward(batch, labels: labels)
        expectClose("loss", [out.loss], try ref.floats("output.loss"), tolerance: 1e-4)
        expectClose("logits", out.logits.flatMap { $0 }, try ref.floats("output.logits"), tolerance: 1e-4)
        for spec in lora.layout.specs {
            expectClose("grad.\(spec.name)", lora.gradients.values(spec.ref), try ref.floats("grad.\(spec.name)"), tolerance: 1e-4, relative: true)
        }
        XCTAssertEqual(lora.layout.specs.count, 24)
        for name in ["weight", "bias"] {
            let spec = model.tree.layout.spec(named: "classifier.\(name)")!
            expectClose("grad.classifier.\(name)", trainer.gradients.values(spec.ref),
                        try ref.floats("grad.base_model.model.classifier.modules_to_save.default.\(name)"), tolerance: 1e-4, relative: true)
        }
        // The base model, pooler included, is frozen: no gradient at all.
        let frozen = model.tree.layout.specs.filter { !$0.name.hasPrefix("classifier.") }
        XCTAssertEqual(frozen.filter { trainer.gradients.values($0.ref).contains { $0 != 0 } }.map(\.name), [])
        XCTAssertEqual(trainer.parameterGroups.flatMap(\.specs).count, 24 + 2)

        try checkTrajectory(trainer, batch: batch, labels: labels, learningRate: 1e-3, reference: "minilm/train_step_lora.json")
        for name in ["weight", "bias"] {
            expectClose("after_adamw.classifier.\(name)", model.parameters.values(named: "classifier.\(name)")!,
                        try ref.floats("after_adamw.base_model.model.classifier.modules_to_save.default.\(name)"), tolerance: 1e-4)
        }
    }

    /// The loss before each of the reference's AdamW steps (torch defaults: decay on every
    /// parameter) and after the last.
    private func checkTrajectory(_ trainer: Trainer, batch: TokenBatch, labels: [Int], learningRate: Float, reference: String) throws {
        let expected = try Fixtures.losses(reference)
        let optimizer = AdamW(groups: trainer.parameterGroups, config: AdamWConfig(weightDecay: 0.01, decayEveryParameter: true))
        var losses: [Float] = []
        for _ in 0..<(expected.count - 1) {
            losses.append(try trainer.forwardBackward(batch, labels: labels).loss)
            optimizer.step(learningRate: learningRate)
        }
        losses.append(try trainer.loss(batch, labels: labels).loss)
        print("  losses: \(losses)")
        for (i, (mine, theirs)) in zip(losses, expected).enumerated() {
            expectClose("loss before step \(i)", [mine], [theirs], tolerance: 1e-4)
        }
    }
}
