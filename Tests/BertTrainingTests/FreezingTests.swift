import BertCore
import BertTraining
import XCTest

/// Frozen parameters get no gradient and no update; what trains gets the same gradient as in
/// full fine-tuning.
final class FreezingTests: XCTestCase {
    private func setUp(_ name: String, _ freezing: Freezing) throws -> (TransformerModel, Trainer, TokenBatch, [Int]) {
        let model = try ModelLoader.load(directory: Fixtures.url(name))
        let ref = try Fixtures.safetensors("\(name)/reference.safetensors")
        let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"), typeIds: nil, rows: 3)
        return (model, try Trainer(model: model, options: TrainingOptions(freezing: freezing)), batch, try ref.integers("input.labels"))
    }

    private func check(_ name: String, _ freezing: Freezing, trains: (String) -> Bool) throws {
        let (_, full, batch, labels) = try setUp(name, .none)
        try full.forwardBackward(batch, labels: labels)
        let (model, trainer, _, _) = try setUp(name, freezing)
        try trainer.forwardBackward(batch, labels: labels)
        let specs = model.tree.layout.specs
        XCTAssertEqual(trainer.parameterGroups[0].specs.map(\.name), specs.filter { trains($0.name) }.map(\.name), "\(name) \(freezing)")
        for spec in specs {
            let mine = trainer.gradients.values(spec.ref)
            if trains(spec.name) {
                XCTAssertLessThanOrEqual(maxAbsDifference(mine, full.gradients.values(spec.ref)), 1e-7, "\(name) \(freezing): \(spec.name)")
            } else {
                XCTAssertFalse(mine.contains { $0 != 0 }, "\(name) \(freezing): frozen \(spec.name) got a gradient")
            }
        }
        // One optimizer step moves exactly the trainable tensors (weight decay included).
        let before = specs.map { model.parameters.values($0.ref) }
        AdamW(groups: trainer.parameterGroups, config: AdamWConfig(weightDecay: 0.1, decayEveryParameter: true)).step(learningRate: 1e-2)
        for (spec, old) in zip(specs, before) {
            let changed = model.parameters.values(spec.ref) != old
            XCTAssertEqual(changed, trains(spec.name), "\(name) \(freezing): \(spec.name) \(changed ? "changed" : "did not change")")
        }
    }

    func testHeadOnly() throws {
        try check("tiny-bert", .encoder) { $0.hasPrefix("classifier.") }
        try check("tiny-distilbert", .encoder) { !$0.hasPrefix("distilbert.") }  // pre_classifier + classifier
        try check("tiny-roberta", .encoder) { $0.hasPrefix("classifier.") }      // dense + out_proj
    }

    func testLowerLayers() throws {
        try check("tiny-bert", .lowerLayers(1)) { !$0.hasPrefix("bert.embeddings.") && !$0.hasPrefix("bert.encoder.layer.0.") }
        try check("tiny-distilbert", .lowerLayers(2)) { !$0.hasPrefix("distilbert.") }
        try check("tiny-roberta", .lowerLayers(0)) { _ in true }
    }

    func testRejectsBadOptions() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        XCTAssertThrowsError(try Trainer(model: model, options: TrainingOptions(freezing: .lowerLayers(3))))
        XCTAssertThrowsError(try Trainer(model: model, options: TrainingOptions(dropout: DropoutRates(hidden: 1, attention: 0, classifier: 0))))
        XCTAssertThrowsError(try Trainer(model: model, options: TrainingOptions(freezing: .encoder, lora: LoRAConfig())))
        let trainer = try Trainer(model: model)
        XCTAssertThrowsError(try trainer.forwardBackward(TokenBatch(sequences: [[1, 2]]), labels: [3])) {
            XCTAssertEqual(($0 as? BertError)?.code, .invalidInput)
        }
        XCTAssertThrowsError(try trainer.forwardBackward(TokenBatch(sequences: [[1, 2]]), labels: [0, 1]))
    }
}

/// Head-only training on cached encoder features equals the full forward/backward with the
/// encoder frozen (no dropout), for all three heads.
final class HeadOnlyFeatureTests: XCTestCase {
    func testCachedFeaturesGiveTheSameStep() throws {
        for name in ["tiny-bert", "tiny-distilbert", "tiny-roberta"] {
            let model = try ModelLoader.load(directory: Fixtures.url(name))
            let trainer = try Trainer(model: model, options: TrainingOptions(freezing: .encoder))
            let batch = TokenBatch(sequences: [[0, 7, 9, 30, 2], [0, 11, 2], [0, 5, 6, 2]])
            let labels = [0, 2, 1]
            let full = try trainer.forwardBackward(batch, labels: labels)
            let fullGradients = trainer.parameterGroups[0].specs.map { trainer.gradients.values($0.ref) }

            let ws = model.makeWorkspace()
            try model.encode(batch, workspace: ws)
            let h = model.config.hiddenSize
            let features = (0..<batch.count).map { Array(model.hiddenStates(of: $0, in: batch, workspace: ws).prefix(h)) }
            let cached = try trainer.headForwardBackward(features: features, labels: labels)
            XCTAssertEqual(cached.loss, full.loss, accuracy: 1e-6, name)
            XCTAssertLessThanOrEqual(maxAbsDifference(cached.logits.flatMap { $0 }, full.logits.flatMap { $0 }), 1e-6, name)
            for (spec, expected) in zip(trainer.parameterGroups[0].specs, fullGradients) {
                XCTAssertLessThanOrEqual(maxAbsDifference(trainer.gradients.values(spec.ref), expected), 1e-6, "\(name) \(spec.name)")
            }
        }
    }
}
