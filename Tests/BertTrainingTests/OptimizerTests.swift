import BertCore
import BertTraining
import Foundation
import XCTest

final class OptimizerTests: XCTestCase {
    /// A weight (decays) and a bias (does not), as the HF recipe marks them.
    private func arenas() -> (ParameterArena, ParameterArena, ParameterGroup) {
        var builder = ParameterBuilder()
        _ = builder.linear("layer", out: 2, in: 3)
        let p = ParameterArena(layout: builder.layout), g = ParameterArena(layout: builder.layout)
        return (p, g, ParameterGroup(parameters: p, gradients: g, specs: builder.layout.specs))
    }

    /// Three steps against torch.optim.AdamW's formulas evaluated in Double.
    func testAdamWMatchesTorchFormula() {
        for decayEvery in [true, false] {
            let (p, g, group) = arenas()
            let config = AdamWConfig(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, decayEveryParameter: decayEvery)
            let optimizer = AdamW(groups: [group], config: config)
            var rng = SeededGenerator(seed: 1)
            for spec in group.specs { for i in 0..<spec.ref.count { p[spec.ref][i] = Float.random(in: -1...1, using: &rng) } }
            var expected = group.specs.map { p.values($0.ref).map(Double.init) }
            var m = expected.map { $0.map { _ in 0.0 } }, v = m
            let lr = 0.01
            for step in 1...3 {
                for (k, spec) in group.specs.enumerated() {
                    let grads = (0..<spec.ref.count).map { _ in Float.random(in: -1...1, using: &rng) }
                    g[spec.ref].update(from: grads, count: grads.count)
                    let decay = decayEvery || spec.decays
                    for i in 0..<grads.count {
                        let gi = Double(grads[i])
                        if decay { expected[k][i] *= 1 - lr * 0.1 }
                        m[k][i] = 0.9 * m[k][i] + 0.1 * gi
                        v[k][i] = 0.999 * v[k][i] + 0.001 * gi * gi
                        let mHat = m[k][i] / (1 - pow(0.9, Double(step))), vHat = v[k][i] / (1 - pow(0.999, Double(step)))
                        expected[k][i] -= lr * mHat / (vHat.squareRoot() + 1e-8)
                    }
                }
                optimizer.step(learningRate: Float(lr))
            }
            XCTAssertEqual(optimizer.stepCount, 3)
            for (k, spec) in group.specs.enumerated() {
                expectClose("AdamW \(spec.name) decayEvery=\(decayEvery)", p.values(spec.ref), expected[k].map(Float.init), tolerance: 1e-6)
            }
        }
    }

    /// With zero gradients only weight decay acts: the HF recipe leaves biases alone.
    func testDecayMask() {
        let (p, _, group) = arenas()
        for spec in group.specs { p[spec.ref].update(repeating: 1, count: spec.ref.count) }
        AdamW(groups: [group], config: AdamWConfig(weightDecay: 0.5)).step(learningRate: 0.1)
        XCTAssertEqual(p.values(named: "layer.weight")!, [Float](repeating: 0.95, count: 6))
        XCTAssertEqual(p.values(named: "layer.bias")!, [1, 1])
    }

    func testGradientClipping() {
        let (_, g, group) = arenas()
        g[group.specs[0].ref].update(from: [3, 0, 0, 0, 0, 0], count: 6)
        g[group.specs[1].ref].update(from: [0, 4], count: 2)
        XCTAssertEqual(gradientNorm([group]), 5, accuracy: 1e-6)
        clipGradients([group], norm: 5, maxNorm: 10)  // below the limit: untouched
        XCTAssertEqual(g.values(named: "layer.bias")!, [0, 4])
        clipGradients([group], norm: 5, maxNorm: 1)
        XCTAssertEqual(g.values(named: "layer.weight")![0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(g.values(named: "layer.bias")![1], 0.8, accuracy: 1e-6)
        XCTAssertEqual(gradientNorm([group]), 1, accuracy: 1e-6)
    }

    func testSchedules() {
        let linear = LearningRateSchedule(peak: 2, shape: .linear, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual([0, 5, 10, 60, 110, 150].map { linear.learningRate(step: $0) }, [0, 1, 2, 1, 0, 0])
        let cosine = LearningRateSchedule(peak: 2, shape: .cosine, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(cosine.learningRate(step: 5), 1)
        XCTAssertEqual(cosine.learningRate(step: 10), 2)
        XCTAssertEqual(cosine.learningRate(step: 60), 1, accuracy: 1e-6)
        XCTAssertEqual(cosine.learningRate(step: 35), Float(1 + cos(Double.pi / 4)), accuracy: 1e-6)
        XCTAssertEqual(cosine.learningRate(step: 110), 0, accuracy: 1e-6)
        let constant = LearningRateSchedule(peak: 2, shape: .constant, warmupSteps: 4)
        XCTAssertEqual([0, 2, 4, 1000].map { constant.learningRate(step: $0) }, [0, 1, 2, 2])
        XCTAssertEqual(LearningRateSchedule(peak: 3, shape: .constant).learningRate(step: 0), 3)
    }
}

/// Layer-wise learning-rate decay: the head at the full rate, each layer below one more factor.
final class LayerwiseDecayTests: XCTestCase {
    func testScalesFollowDepth() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let trainer = try Trainer(model: model)
        let optimizer = AdamW(groups: trainer.parameterGroups)
        optimizer.applyLayerwiseDecay(0.5, layers: 2)
        let specs = trainer.parameterGroups[0].specs
        func scale(_ name: String) -> Float? { specs.firstIndex { $0.name == name }.map { optimizer.learningRateScales[0][$0] } }
        XCTAssertEqual(scale("classifier.weight"), 1)
        XCTAssertEqual(scale("bert.pooler.dense.weight"), 1)
        XCTAssertEqual(scale("bert.encoder.layer.1.output.dense.weight"), 0.5)
        XCTAssertEqual(scale("bert.encoder.layer.0.attention.self.query.weight"), 0.25)
        XCTAssertEqual(scale("bert.embeddings.word_embeddings.weight"), 0.125)

        // A zero scale freezes a tensor's update; the others still move.
        let batch = TokenBatch(sequences: [[101, 7, 9, 102], [101, 11, 102]])
        optimizer.learningRateScales[0] = specs.map { $0.name.hasPrefix("bert.embeddings.") ? 0 : 1 }
        let before = model.parameters.values(named: "bert.embeddings.LayerNorm.bias")
        let head = model.parameters.values(named: "classifier.weight")
        try trainer.forwardBackward(batch, labels: [0, 2])
        optimizer.step(learningRate: 1e-2)
        XCTAssertEqual(model.parameters.values(named: "bert.embeddings.LayerNorm.bias"), before)
        XCTAssertNotEqual(model.parameters.values(named: "classifier.weight"), head)
    }
}
