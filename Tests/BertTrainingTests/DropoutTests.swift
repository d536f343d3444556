import BertCore
@testable import BertTraining
import Foundation
import XCTest

final class DropoutTests: XCTestCase {
    private let pool = ComputePool(threads: 2)

    func testMaskRateScaleAndReproducibility() {
        let n = 100_003, p: Float = 0.1
        var a = [Float](repeating: -1, count: n), b = a, c = a
        let rng = DropoutRNG(seed: 5)
        dropoutMask(&a, count: n, p: p, rng: rng, pass: 3, site: 7, pool: pool)
        dropoutMask(&b, count: n, p: p, rng: rng, pass: 3, site: 7, pool: ComputePool(threads: 1))
        dropoutMask(&c, count: n, p: p, rng: rng, pass: 4, site: 7, pool: pool)
        XCTAssertEqual(a, b, "the mask must not depend on the thread count")
        XCTAssertNotEqual(a, c, "another pass draws another mask")
        XCTAssertTrue(a.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) }, "inverted dropout keeps x/(1−p)")
        let dropped = Float(a.filter { $0 == 0 }.count) / Float(n)
        print("dropped fraction \(dropped) for p = \(p)")
        XCTAssertEqual(dropped, p, accuracy: 0.003)  // ~3σ for 1e5 draws
        let agreement = Float(zip(a, c).filter { ($0 == 0) == ($1 == 0) }.count) / Float(n)
        XCTAssertLessThan(agreement, 0.85, "masks of two passes look independent")  // independent: 0.82
    }

    private func tinyBatch(_ ref: SafetensorsFile) throws -> (TokenBatch, [Int]) {
        (unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                       typeIds: try ref.integers("input.token_type_ids"), rows: 3), try ref.integers("input.labels"))
    }

    /// Same seed, same pass: identical loss and gradients; another seed: another loss.
    func testFixedSeedIsReproducible() throws {
        let ref = try Fixtures.safetensors("tiny-bert/reference.safetensors")
        let (batch, labels) = try tinyBatch(ref)
        func run(seed: UInt64) throws -> (Float, [Float]) {
            let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
            let trainer = try Trainer(model: model, options: TrainingOptions(dropout: .huggingFaceDefault, seed: seed))
            let out = try trainer.forwardBackward(batch, labels: labels)
            return (out.loss, Array(UnsafeBufferPointer(start: trainer.gradients.base, count: trainer.gradients.count)))
        }
        let (loss1, grads1) = try run(seed: 7)
        let (loss2, grads2) = try run(seed: 7)
        let (loss3, _) = try run(seed: 8)
        XCTAssertEqual(loss1, loss2)
        XCTAssertEqual(grads1, grads2)
        XCTAssertNotEqual(loss1, loss3)
        let noDropout = try Trainer(model: ModelLoader.load(directory: Fixtures.url("tiny-bert"))).loss(batch, labels: labels).loss
        XCTAssertNotEqual(loss1, noDropout, "dropout must change the loss")
    }

    /// With every rate 0 the training forward is the inference forward.
    func testZeroRatesMatchInference() throws {
        for name in ["tiny-bert", "tiny-distilbert", "tiny-roberta"] {
            let model = try ModelLoader.load(directory: Fixtures.url(name))
            let ref = try Fixtures.safetensors("\(name)/reference.safetensors")
            let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"), typeIds: nil, rows: 3)
            let inference = try model.classify(batch, workspace: model.makeWorkspace())
            let trainer = try Trainer(model: model, options: TrainingOptions(dropout: DropoutRates(hidden: 0, attention: 0, classifier: 0), seed: 3))
            let training = try trainer.loss(batch, labels: [0, 1, 2]).logits
            expectClose("\(name) training (p = 0) vs inference logits", training.flatMap { $0 }, inference.flatMap { $0 }, tolerance: 1e-6)
        }
    }

    /// With dropout on (masks repeated by resetting dropoutPass), the gradient of each tensor
    /// agrees with a central difference of the loss along that gradient's direction: a mask
    /// applied in the forward but not the backward (or vice versa) would break this.
    func testGradientsWithDropoutMatchFiniteDifferences() throws {
        for name in ["tiny-bert", "tiny-distilbert", "tiny-roberta"] {
            let model = try ModelLoader.load(directory: Fixtures.url(name))
            moveReLUAwayFromItsKink(model)
            let ref = try Fixtures.safetensors("\(name)/reference.safetensors")
            let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                                      typeIds: name == "tiny-bert" ? try ref.integers("input.token_type_ids") : nil, rows: 3)
            let labels = try ref.integers("input.labels")
            let trainer = try Trainer(model: model, options: TrainingOptions(dropout: DropoutRates(hidden: 0.2, attention: 0.2, classifier: 0.3), seed: 11))
            print("\(name) with dropout:")
            try checkDirectionalDerivatives(trainer, batch: batch, labels: labels, groups: trainer.parameterGroups)
        }
    }
}

/// For each tensor with a gradient g of norm ≥ minimumNorm: (L(p + h·ĝ) − L(p − h·ĝ)) / 2h ≈ |g|,
/// with the same dropout masks in every evaluation. The loss is recomputed in Double from the
/// logits (a Float loss near 1.1 moves in steps of 1.2e-7, which over 2h = 2e-3 is 6e-5 of
/// noise); smaller gradients are left to the exact parity tests, as their difference would be
/// mostly rounding (at |g| = 1e-3 the rounding of Float logits is still ~1% of the difference,
/// hence the 2% tolerance; a dropout mask missing from the backward is off by ~p = 10–30%).
func checkDirectionalDerivatives(_ trainer: Trainer, batch: TokenBatch, labels: [Int], groups: [ParameterGroup],
                                 h: Float = 1e-3, tolerance: Float = 2e-2, minimumNorm: Double = 1e-3,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
    trainer.dropoutPass = 0
    try trainer.forwardBackward(batch, labels: labels)
    var worst: Float = 0, checked = 0
    for group in groups {
        for spec in group.specs {
            let g = group.gradients.values(spec.ref)
            let norm = g.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            guard norm >= minimumNorm else { continue }
            let p = group.parameters[spec.ref]
            let saved = Array(UnsafeBufferPointer(start: p, count: spec.ref.count))
            func loss(_ sign: Float) throws -> Double {
                for i in 0..<spec.ref.count { p[i] = saved[i] + sign * h * Float(Double(g[i]) / norm) }
                trainer.dropoutPass = 0
                return meanCrossEntropy(try trainer.loss(batch, labels: labels).logits, labels)
            }
            let numeric = (try loss(1) - loss(-1)) / (2 * Double(h))
            p.update(from: saved, count: saved.count)
            let relative = Float(abs(numeric - norm) / norm)
            worst = max(worst, relative)
            checked += 1
            XCTAssertTrue(relative <= tolerance, "\(spec.name): |g| = \(norm), finite difference \(numeric)", file: file, line: line)
        }
    }
    print("  \(checked) tensors: worst relative difference of |g| against the directional finite difference: \(worst)")
    XCTAssertGreaterThan(checked, 4, file: file, line: line)
}

/// The mean cross-entropy of Float logits, in Double.
func meanCrossEntropy(_ logits: [[Float]], _ labels: [Int]) -> Double {
    zip(logits, labels).reduce(0.0) { sum, row in
        let z = row.0.map(Double.init)
        let m = z.max()!
        return sum + (m + Foundation.log(z.reduce(0) { $0 + Foundation.exp($1 - m) }) - z[row.1])
    } / Double(labels.count)
}

/// DistilBERT's head applies ReLU to pre_classifier's output, and the tiny model has a unit
/// within 5e-5 of the kink: a finite difference across it measures the average of two slopes,
/// not the gradient (HF's gradient agrees with ours there). Shifting pre_classifier's bias by
/// +3 puts every unit on the linear side, so the check sees a smooth function.
func moveReLUAwayFromItsKink(_ model: TransformerModel) {
    guard model.family == .distilbert, let bias = model.tree.layout.spec(named: "pre_classifier.bias") else { return }
    for i in 0..<bias.ref.count { model.parameters[bias.ref][i] += 3 }
}
