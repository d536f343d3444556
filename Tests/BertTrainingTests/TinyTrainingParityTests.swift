import BertCore
import BertTraining
import XCTest

/// Loss, logits, the gradient of every parameter and a 5-step AdamW trajectory of the tiny random
/// classifiers of every family against PyTorch (Fixtures/tiny-*, from Tests/FixtureGenerators:
/// dropout 0, AdamW lr 1e-3, weight decay 0.01 on every parameter).
final class TinyTrainingParityTests: XCTestCase {
    func testBert() throws { try check("tiny-bert", hasTypes: true) }
    func testDistilBert() throws { try check("tiny-distilbert", hasTypes: false) }
    func testRoberta() throws { try check("tiny-roberta", hasTypes: false) }
    func testXLMRoberta() throws { try check("tiny-xlm-roberta", hasTypes: false) }
    /// The embedding projection's backward (E = 16 → H = 32) and the GELU head's.
    func testElectra() throws { try check("tiny-electra", hasTypes: true) }

    private func check(_ name: String, hasTypes: Bool) throws {
        let model = try ModelLoader.load(directory: Fixtures.url(name))
        let ref = try Fixtures.safetensors("\(name)/reference.safetensors")
        let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                                  typeIds: hasTypes ? try ref.integers("input.token_type_ids") : nil, rows: 3)
        let labels = try ref.integers("input.labels")
        let trainer = try Trainer(model: model)
        print("\(name):")
        let out = try trainer.forwardBackward(batch, labels: labels)
        expectClose("loss", [out.loss], try ref.floats("output.loss"), tolerance: 1e-5)
        expectClose("logits", out.logits.flatMap { $0 }, try ref.floats("output.logits"), tolerance: 1e-5)

        // Every parameter has a reference gradient and every reference gradient a parameter.
        let specs = model.tree.layout.specs
        let refGrads = Set(ref.tensors.keys.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) })
        XCTAssertEqual(refGrads, Set(specs.map(\.name)), "\(name): parameter names differ from the reference's")
        var worst: (Float, String) = (0, "")
        for spec in specs where refGrads.contains(spec.name) {
            let d = expectClose("grad.\(spec.name)", trainer.gradients.values(spec.ref), try ref.floats("grad.\(spec.name)"), tolerance: 1e-5)
            if !(d <= worst.0) { worst = (d, spec.name) }
        }
        print("\(name): worst gradient max |Δ| = \(worst.0) (\(worst.1)), \(specs.count) tensors")

        // 5 AdamW steps, then the loss after the last.
        let optimizer = AdamW(groups: trainer.parameterGroups, config: AdamWConfig(weightDecay: 0.01, decayEveryParameter: true))
        var losses: [Float] = []
        for _ in 0..<5 {
            losses.append(try trainer.forwardBackward(batch, labels: labels).loss)
            optimizer.step(learningRate: 1e-3)
        }
        losses.append(try trainer.loss(batch, labels: labels).loss)
        let expected = try Fixtures.losses("\(name)/reference.json")
        for (i, (mine, theirs)) in zip(losses, expected).enumerated() {
            expectClose("loss before step \(i)", [mine], [theirs], tolerance: 1e-5)
        }
        for key in ref.tensors.keys.sorted() where key.hasPrefix("after_adamw.") {
            let param = String(key.dropFirst("after_adamw.".count))
            guard let values = model.parameters.values(named: param) else { XCTFail("no parameter \(param)"); continue }
            expectClose(key, values, try ref.floats(key), tolerance: 1e-5)
        }
    }
}
