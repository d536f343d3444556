import BertCore
@testable import BertTraining
import Foundation
import XCTest

/// Few-shot (SetFit) body training against PyTorch (Fixtures/fewshot/contrastive, from
/// generate_fewshot.py): sentence-transformers' CosineSimilarityLoss on mean-pooled, normalised
/// embeddings of tiny-bert, two pairs over [s0, s1, s2, s0]. The loss, each pair's cosine and the
/// gradient of every encoder parameter must match; the pooler and the head get none.
final class ContrastiveParityTests: XCTestCase {
    private func fixture() throws -> (SafetensorsFile, TokenBatch, [Float]) {
        let ref = try Fixtures.safetensors("fewshot/contrastive.safetensors")
        let ids = try ref.integers("input.ids"), types = try ref.integers("input.token_type_ids")
        var batch = TokenBatch()
        var start = 0
        for n in try ref.integers("input.lengths") {
            batch.append(ids: ids[start..<(start + n)].map(Int32.init), typeIds: types[start..<(start + n)].map(Int32.init))
            start += n
        }
        return (ref, batch, try ref.floats("input.targets"))
    }

    func testLossCosinesAndEveryGradientMatchPyTorch() throws {
        let (ref, batch, targets) = try fixture()
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let trainer = try Trainer(encoder: model, options: TrainingOptions(dropout: .none))
        let out = try trainer.contrastiveForwardBackward(batch, targets: targets)
        expectClose("loss", [out.loss], try ref.floats("output.loss"), tolerance: 1e-6)
        expectClose("cosines", out.cosines, try ref.floats("output.cosines"), tolerance: 1e-6)
        var compared = 0
        for spec in model.tree.layout.specs {
            let name = "grad.\(spec.name)"
            if ref.tensors[name] != nil {
                expectClose(name, trainer.gradients.values(spec.ref), try ref.floats(name), tolerance: 1e-6)
                compared += 1
            } else {
                XCTAssertTrue(trainer.gradients.values(spec.ref).allSatisfy { $0 == 0 }, "\(spec.name) gets no gradient (PyTorch: None)")
                XCTAssertFalse(trainer.parameterGroups[0].specs.contains { $0.name == spec.name },
                               "\(spec.name) is not handed to the optimizer (PyTorch's AdamW skips it, decay included)")
            }
        }
        XCTAssertEqual(compared, 37, "every encoder parameter but the pooler's two")
        // The embeddings the loss saw are inference's sentence embeddings (dropout off).
        let embedded = try model.embed(batch, workspace: model.makeWorkspace())
        expectClose("embeddings", embedded.flatMap { $0 }, try ref.floats("output.embeddings"), tolerance: 1e-6)
    }

    /// The loss moves the cosines towards their targets: a few SGD-sized steps lower it.
    func testStepsLowerTheLoss() throws {
        let (_, batch, targets) = try fixture()
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let trainer = try Trainer(encoder: model, options: TrainingOptions(dropout: .none))
        let optimizer = AdamW(groups: trainer.parameterGroups, config: AdamWConfig(weightDecay: 0))
        let first = try trainer.contrastiveForwardBackward(batch, targets: targets).loss
        for _ in 0..<10 {
            _ = optimizer.step(learningRate: 1e-2)
            try trainer.contrastiveForwardBackward(batch, targets: targets)
        }
        let last = try trainer.contrastiveLoss(batch, targets: targets).loss
        XCTAssertLessThan(last, first / 2, "10 AdamW steps halve the contrastive loss (\(first) → \(last))")
    }

    func testMalformedBatchesAreRefused() throws {
        let (_, batch, _) = try fixture()
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        XCTAssertThrowsError(try Trainer(encoder: model).contrastiveForwardBackward(batch, targets: [1]), "4 sequences, 1 pair")
        let frozen = try Trainer(model: model, options: TrainingOptions(freezing: .encoder))
        XCTAssertThrowsError(try frozen.contrastiveForwardBackward(batch, targets: [1, 0]), "a head-only trainer cannot train the encoder")
    }
}
