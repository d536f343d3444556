import BertCore
@testable import BertTraining
import BertTokenizers
import XCTest

/// Integrated gradients and attention maps from the training engine: the quadrature, the
/// completeness of the attributions, batch independence, and the maps' invariants. Parity with
/// PyTorch is in ExplanationParityTests.
final class ExplanationEngineTests: XCTestCase {
    func testGaussLegendreIsExactForPolynomialsOfDegree2nMinus1() throws {
        let three = IntegrationRule.gaussLegendre(3)
        XCTAssertEqual(three[0].node, -(0.6).squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(three[1].node, 0, accuracy: 1e-14)
        XCTAssertEqual(three[1].weight, 8.0 / 9, accuracy: 1e-14)
        for n in [1, 2, 5, 32, 256] {
            let points = try IntegrationRule.gaussLegendre.points(n)
            XCTAssertEqual(points.reduce(0) { $0 + $1.weight }, 1, accuracy: 1e-12, "n = \(n)")
            // ∫₀¹ α^(2n−1) dα = 1/(2n)
            let degree = Double(2 * n - 1)
            let integral = points.reduce(0) { $0 + $1.weight * pow($1.alpha, degree) }
            XCTAssertEqual(integral, 1 / (degree + 1), accuracy: 1e-10, "n = \(n)")
        }
        let trapezoid = try IntegrationRule.trapezoid.points(5)
        XCTAssertEqual(trapezoid.map(\.alpha), [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(trapezoid.map(\.weight), [0.125, 0.25, 0.25, 0.25, 0.125])
        XCTAssertThrowsError(try IntegrationRule.trapezoid.points(1))
    }

    /// Completeness: Σ attributions = logit(x) − logit(x′) up to the quadrature error, which
    /// shrinks with the steps (≤ 1 % at 256). The tiny heads' output weights are scaled up 1000×
    /// so that logit(x) − logit(x′) is ~1e-2, not the ~1e-5 of their random initialisation, where
    /// 1 % would be below float32's resolution.
    func testCompletenessOnEveryTinyFamily() throws {
        var checked = 0
        for name in ["tiny-bert", "tiny-distilbert", "tiny-roberta", "tiny-xlm-roberta", "tiny-electra"] {
            let model = try ModelLoader.load(directory: Fixtures.url(name))
            let output = model.tree.head!.output.weight
            for i in 0..<output.count { model.parameters[output][i] *= 1000 }
            let explainer = Explainer(model: model)
            for (ids, types) in tinyRows(name) {
                let special = ids.indices.map { $0 == 0 || $0 == ids.count - 1 }
                for baseline in AttributionBaseline.allCases {
                    let run = try explainer.makeRun(ids: ids, typeIds: types, special: special, targets: .labels([0, 2]),
                                                    steps: 256, baseline: baseline)
                    let result = try explainer.finish(run, maxTokens: 600)
                    for a in result.attributions {
                        let delta = a.logit - a.baselineLogit
                        print("  \(name) \(baseline) label \(a.label): Δlogit \(delta), gap \(a.completenessGap)")
                        // Below ~5e-3 the gap is float32's rounding of logits ~10, not the quadrature's.
                        guard abs(delta) > 5e-3 else { continue }
                        checked += 1
                        XCTAssertLessThanOrEqual(abs(a.completenessGap), 0.01 * abs(delta), "\(name) \(baseline)")
                        XCTAssertEqual(a.tokens[0], 0, "special tokens keep their embedding: no attribution")
                    }
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 40, "most (row, label, baseline) cases should separate input and baseline")
    }

    func testCompletenessOnMiniLM() throws {
        let model = try ModelLoader.load(directory: try miniLMDirectory(),
                                         extraWeights: [Fixtures.url("minilm/classifier_head_init.safetensors")])
        let explainer = Explainer(model: model)
        let ref = try Fixtures.safetensors("minilm/explanations.safetensors")
        for r in 0..<4 {
            let ids = try ref.integers("row\(r).ids").map(Int32.init)
            let special = try ref.integers("row\(r).special").map { $0 == 1 }
            for steps in [8, 256] {
                let a = try explainer.finish(try explainer.makeRun(ids: ids, special: special, steps: steps)).attributions[0]
                let delta = a.logit - a.baselineLogit
                print("  MiniLM row \(r), \(steps) steps: Δlogit \(delta), gap \(a.completenessGap)")
                if steps == 256 { XCTAssertLessThanOrEqual(abs(a.completenessGap), 0.01 * abs(delta)) }
            }
        }
    }

    /// Zero-shot (an encoder without a head): the explained output is the cosine of the text's
    /// sentence embedding with a label's; completeness holds for it as for a logit, and the
    /// endpoint at the input is exactly what `embed` gives.
    func testZeroShotCosineIsExplainedCompletely() throws {
        let directory = try miniLMDirectory()
        let model = try ModelLoader.load(directory: directory)
        XCTAssertFalse(model.hasClassificationHead)
        let tokenizer = try Tokenizer(directory: directory)
        let explainer = Explainer(model: model)
        let labels = ["sports", "cooking", "politics"].map { tokenizer.encode($0) }
        let workspace = model.makeWorkspace()
        let vectors = try model.embed(TokenBatch(sequences: labels.map(\.ids), typeIds: labels.map(\.typeIds)), workspace: workspace)
        let e = tokenizer.encode("the football team won the championship match")
        let text = try model.embed(TokenBatch(sequences: [e.ids], typeIds: [e.typeIds]), workspace: workspace)[0]
        let result = try explainer.finish(try explainer.makeRun(ids: e.ids, typeIds: e.typeIds, special: e.specialTokensMask,
                                                                steps: 256, similarity: vectors))
        let cosines = vectors.map { v in zip(v, text).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        expectClose("cosines at the input", result.logits, cosines, tolerance: 1e-5)
        let a = result.attributions[0]
        XCTAssertEqual(a.label, 0, "sports is the most similar label")
        let delta = a.logit - a.baselineLogit
        print("  zero-shot: cosines \(result.logits); cos \(a.logit), baseline \(a.baselineLogit), gap \(a.completenessGap)")
        XCTAssertGreaterThan(abs(delta), 0.02)
        XCTAssertLessThanOrEqual(abs(a.completenessGap), 0.01 * abs(delta))
        XCTAssertThrowsError(try explainer.makeRun(ids: e.ids, special: e.specialTokensMask), "a headless model needs label vectors")
    }

    /// A text explained alone or packed with others into the same batches gets the same numbers.
    func testAttributionsDoNotDependOnBatchCompanions() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let explainer = Explainer(model: model)
        let rows = tinyRows("tiny-bert")
        func run(_ r: Int) throws -> IntegratedGradientsRun {
            let (ids, types) = rows[r]
            return try explainer.makeRun(ids: ids, typeIds: types, special: ids.indices.map { $0 == 0 }, steps: 20)
        }
        let alone = try explainer.finish(try run(0), maxTokens: 10_000)
        let runs = try [run(1), run(0), run(2)]
        // Small budgets: chunks mix the three runs' points in different places than alone.
        while runs.contains(where: { !$0.isFinished }) { try explainer.advance(runs, maxTokens: 70, maxSequences: 7) }
        let together = runs[1].result()
        XCTAssertEqual(alone.logits, together.logits)
        expectClose("attributions alone vs packed", together.attributions[0].tokens, alone.attributions[0].tokens,
                    tolerance: 1e-5, relative: true)
    }

    func testBadRequestsAreRefused() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let explainer = Explainer(model: model)
        let (ids, types) = tinyRows("tiny-bert")[0]
        let special = ids.map { _ in false }
        XCTAssertThrowsError(try explainer.makeRun(ids: ids, typeIds: types, special: special, steps: 0))
        XCTAssertThrowsError(try explainer.makeRun(ids: ids, typeIds: types, special: special, steps: 1025))
        XCTAssertThrowsError(try explainer.makeRun(ids: ids, typeIds: types, special: special, targets: .labels([3])))
        XCTAssertThrowsError(try explainer.makeRun(ids: ids, typeIds: types, special: special, targets: .labels([])))
        XCTAssertThrowsError(try explainer.makeRun(ids: ids, typeIds: types, special: [true]))
        XCTAssertNoThrow(try explainer.makeRun(ids: ids, typeIds: types, special: special, steps: 1024))
    }

    func testAttentionRowsAndRolloutAreDistributions() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-roberta"))
        let explainer = Explainer(model: model)
        let rows = tinyRows("tiny-roberta")
        let maps = try explainer.attention(TokenBatch(sequences: rows.map(\.0), typeIds: rows.map(\.1)))
        XCTAssertEqual(maps.count, 3)
        for m in maps {
            XCTAssertEqual(m.values.count, 2 * 4 * m.length * m.length)
            let rollout = m.rollout()
            for i in 0..<m.length {
                XCTAssertEqual(rollout[(i * m.length)..<((i + 1) * m.length)].reduce(0, +), 1, accuracy: 1e-5)
                XCTAssertEqual(m.map(layer: 1, head: 3)[(i * m.length)..<((i + 1) * m.length)].reduce(0, +), 1, accuracy: 1e-5)
            }
        }
        // The maps' forward is the inference forward: same logits.
        let logits = try model.classify(TokenBatch(sequences: rows.map(\.0), typeIds: rows.map(\.1)), workspace: model.makeWorkspace())
        expectClose("attention forward logits", maps.flatMap(\.logits), logits.flatMap { $0 }, tolerance: 1e-5)
    }

    /// Words from token offsets: pieces that touch join, whitespace and punctuation split,
    /// special tokens belong to no word, a pair's words say which text they are in.
    func testWordsMergeTouchingPiecesAndSplitPunctuation() {
        // "[CLS] un ##believ ##able , film ! [SEP] ok [SEP]" over "unbelievable, film!" and "ok"
        let text = "unbelievable, film!", pair = "ok"
        let offsets: [Range<Int>] = [0..<0, 0..<2, 2..<8, 8..<12, 12..<13, 14..<18, 18..<19, 0..<0, 0..<2, 0..<0]
        let sequences: [Int8] = [-1, 0, 0, 0, 0, 0, 0, -1, 1, -1]
        let words = WordSpans.merge(offsets: offsets, sequences: sequences, texts: [text, pair])
        XCTAssertEqual(words.map(\.text), ["unbelievable", ",", "film", "!", "ok"])
        XCTAssertEqual(words.map(\.tokens), [1..<4, 4..<5, 5..<6, 6..<7, 8..<9])
        XCTAssertEqual(words.map(\.sequence), [0, 0, 0, 0, 1])
        XCTAssertEqual(words[2].start, 14)
        XCTAssertEqual(words[2].end, 18)
        let values: [Float] = [9, 1, 2, 3, 4, 5, 6, 9, 7, 9]
        XCTAssertEqual(WordSpans.sum(values, over: words), [6, 4, 5, 6, 7])
        // Offsets count Unicode scalars, as the tokenizer's do.
        let accented = WordSpans.merge(offsets: [0..<4, 5..<9], sequences: [0, 0], texts: ["café rôle"])
        XCTAssertEqual(accented.map(\.text), ["café", "rôle"])
    }

    /// The rows of a tiny fixture's batch, unpadded: (ids, type ids).
    func tinyRows(_ name: String) -> [([Int32], [Int32])] {
        let ref = try! Fixtures.safetensors("\(name)/reference.safetensors")
        let ids = try! ref.integers("input.input_ids")
        let mask = try! ref.integers("input.attention_mask")
        let types = try? ref.integers("input.token_type_ids")
        let batch = unpaddedBatch(ids: ids, mask: mask, typeIds: types, rows: 3)
        return (0..<3).map { s in
            let r = batch.sequenceStarts[s]..<batch.sequenceStarts[s + 1]
            return (Array(batch.ids[r]), Array(batch.typeIds[r]))
        }
    }
}
