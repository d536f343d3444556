import BertCore
@testable import BertTraining
import Foundation
import XCTest

/// Integrated gradients and attention maps against PyTorch (Tests/FixtureGenerators/
/// generate_explanations.py: Captum's LayerIntegratedGradients on the embeddings layer, by hand,
/// in float64; `output_attentions=True`). The tiny models' logits differ by < 1e-3 between input
/// and baseline, so their attributions are ~1e-5: they are compared relative to the largest
/// |attribution| as well as absolutely.
final class ExplanationParityTests: XCTestCase {
    func testTinyModelsMatchPyTorch() throws {
        for name in ["tiny-bert", "tiny-distilbert", "tiny-roberta", "tiny-xlm-roberta", "tiny-electra"] {
            try compare(name, model: try ModelLoader.load(directory: Fixtures.url(name)))
        }
    }

    func testMiniLMMatchesPyTorch() throws {
        let model = try ModelLoader.load(directory: try miniLMDirectory(),
                                         extraWeights: [Fixtures.url("minilm/classifier_head_init.safetensors")])
        try compare("minilm", model: model)
    }

    /// The quadrature points are Captum's (numpy's leggauss mapped to [0, 1]; the trapezoid rule).
    func testIntegrationPointsMatchTheReference() throws {
        let ref = try Fixtures.safetensors("tiny-bert/explanations.safetensors")
        for (rule, n) in [(IntegrationRule.gaussLegendre, 16), (.gaussLegendre, 256), (.trapezoid, 16)] {
            let points = try rule.points(n)
            expectClose("\(rule) \(n) alphas", points.map { Float($0.alpha) }, try ref.floats("rule.\(rule.rawValue)\(n).alphas"), tolerance: 1e-7)
            expectClose("\(rule) \(n) weights", points.map { Float($0.weight) }, try ref.floats("rule.\(rule.rawValue)\(n).weights"), tolerance: 1e-8)
        }
    }

    private func compare(_ name: String, model: TransformerModel) throws {
        let ref = try Fixtures.safetensors("\(name)/explanations.safetensors")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("\(name)/explanations.json"))) as! [String: Any]
        let explainer = Explainer(model: model)
        for row in json["rows"] as! [[String: Any]] {
            let r = row["row"] as! Int
            let ids = try ref.integers(row["ids"] as! String).map(Int32.init)
            let types = try (row["type_ids"] as? String).map { try ref.integers($0).map(Int32.init) }
            let special = try ref.integers(row["special"] as! String).map { $0 == 1 }
            // Attention: every layer, every head.
            let maps = try explainer.attention(TokenBatch(sequences: [ids], typeIds: types.map { [$0] }))[0]
            for (l, tensor) in (row["attention"] as! [String]).enumerated() {
                let mine = (0..<maps.heads).flatMap { maps.map(layer: l, head: $0) }
                expectClose("\(name) row \(r) attention layer \(l)", mine, try ref.floats(tensor), tolerance: 1e-5)
            }
            // Integrated gradients: every case.
            for c in row["ig"] as! [[String: Any]] {
                let label = c["target"] as! Int
                let run = try explainer.makeRun(ids: ids, typeIds: types, special: special, targets: .labels([label]),
                                                steps: c["steps"] as! Int, rule: IntegrationRule(rawValue: c["rule"] as! String)!,
                                                baseline: AttributionBaseline(rawValue: c["baseline"] as! String)!)
                let a = try explainer.finish(run, maxTokens: 2048).attributions[0]
                let what = "\(name) row \(r) \(c["baseline"]!) \(c["rule"]!)\(c["steps"]!) label \(label)"
                let expected = try ref.floats(c["attributions"] as! String)
                expectClose("\(what) attributions", a.tokens, expected, tolerance: 1e-4)
                expectClose("\(what) attributions (relative)", a.tokens, expected, tolerance: 1e-4, relative: true)
                XCTAssertEqual(a.logit, Float(c["logit"] as! Double), accuracy: 1e-5, what)
                XCTAssertEqual(a.baselineLogit, Float(c["baseline_logit"] as! Double), accuracy: 1e-5, what)
            }
        }
    }
}
