import BertCore
@testable import BertTraining
import BertTokenizers
import XCTest

/// A long text's explanation over its windows (`WindowedAttributions`): every window token lands
/// on the same token of the whole text, the document's logits are classify's aggregate, the
/// attributions keep completeness (Σ = logit − baseline logit, up to the windows' own quadrature
/// error), and max takes the attributions of the window holding the maximum.
final class WindowedAttributionsTests: XCTestCase {
    let (window, overlap) = (16, 4)

    /// tiny-bert with its head's output scaled 1000× (as ExplanationEngineTests does), so that the
    /// logits of different windows differ by far more than float32's rounding.
    func tinyModel() throws -> (TransformerModel, Tokenizer) {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let output = model.tree.head!.output.weight
        for i in 0..<output.count { model.parameters[output][i] *= 1000 }
        // The tokenizer of the same tiny model, kept beside BertCoreTests' copy of it.
        let tokenizerDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../BertCoreTests/Fixtures/tiny-bert").standardized
        return (model, try Tokenizer(directory: tokenizerDirectory))
    }

    let text = (0..<45).map { "w\($0 % 7) x\($0 % 5)" }.joined(separator: " ")

    func testWindowTokensLandOnTheWholeTextsTokens() throws {
        let (_, tokenizer) = try tinyModel()
        for pair in [nil, "a short pair"] as [String?] {
            let windows = try XCTUnwrap(tokenizer.encodeWindows(text, pair: pair, maxLength: window, overlap: overlap))
            XCTAssertGreaterThan(windows.count, 3)
            let whole = tokenizer.encode(text, pair: pair)
            let layout = WindowedAttributions(windows: windows, whole: whole, overlap: overlap, aggregation: .mean)
            var covered = Set<Int>()
            for (k, w) in windows.enumerated() {
                for (i, position) in layout.positions[k].enumerated() {
                    guard let position else {
                        XCTAssertTrue(w.specialTokensMask[i], "only special tokens are left out")
                        continue
                    }
                    XCTAssertEqual(whole.ids[position], w.ids[i], "window \(k) token \(i)")
                    XCTAssertEqual(whole.offsets[position], w.offsets[i], "window \(k) token \(i)")
                    XCTAssertEqual(whole.sequenceIndices[position], w.sequenceIndices[i])
                    covered.insert(position)
                }
            }
            XCTAssertEqual(covered, Set(whole.ids.indices.filter { !whole.specialTokensMask[$0] }), "every token of the text is in a window")
        }
    }

    func testCombinedAttributionsExplainTheDocumentsLogits() throws {
        let (model, tokenizer) = try tinyModel()
        let explainer = Explainer(model: model)
        let windows = try XCTUnwrap(tokenizer.encodeWindows(text, maxLength: window, overlap: overlap))
        let whole = tokenizer.encode(text)
        let batch = TokenBatch(sequences: windows.map(\.ids), typeIds: windows.map(\.typeIds))
        let rows = try model.classify(batch, workspace: model.makeWorkspace())
        let groups = WindowGroups(counts: [windows.count], tokens: windows.map(\.ids.count))
        let results = try windows.map { w in
            try explainer.finish(try explainer.makeRun(ids: w.ids, typeIds: w.typeIds, special: w.specialTokensMask,
                                                       targets: .labels([0, 2]), steps: 128))
        }
        for aggregation in WindowAggregation.allCases {
            let layout = WindowedAttributions(windows: windows, whole: whole, overlap: overlap, aggregation: aggregation)
            let combined = layout.combine(results)
            let document = aggregateWindows(rows, groups: groups, aggregation: aggregation)[0]
            for (c, d) in zip(combined.logits, document) { XCTAssertEqual(c, d, accuracy: 1e-3 * max(1, abs(d)), "\(aggregation)") }
            XCTAssertEqual(combined.attributions.map(\.label), [0, 2])
            for (n, a) in combined.attributions.enumerated() {
                XCTAssertEqual(a.tokens.count, whole.ids.count)
                XCTAssertEqual(a.logit, document[a.label], accuracy: 1e-3 * max(1, abs(document[a.label])), "\(aggregation)")
                for (t, special) in whole.specialTokensMask.enumerated() where special { XCTAssertEqual(a.tokens[t], 0) }
                let parts: [(Int, Float)]
                if aggregation == .max {
                    let best = results.indices.max { results[$0].logits[a.label] < results[$1].logits[a.label] }!
                    parts = [(best, 1)]
                } else {
                    parts = Array(zip(results.indices, groups.weights(aggregation)))
                }
                // Completeness: the document's gap is the windows' gaps, weighted alike.
                let gap = parts.reduce(Float(0)) { $0 + $1.1 * results[$1.0].attributions[n].completenessGap }
                XCTAssertEqual(a.completenessGap, gap, accuracy: 1e-4 * max(1, abs(a.logit - a.baselineLogit)), "\(aggregation)")
                XCTAssertLessThan(abs(a.completenessGap), 0.02 * abs(a.logit - a.baselineLogit), "\(aggregation)")
                XCTAssertGreaterThan(abs(a.logit - a.baselineLogit), 1e-2, "the test needs logits that move")
            }
            if aggregation == .max {
                // Max: the tokens outside the deciding window get nothing.
                for (n, a) in combined.attributions.enumerated() {
                    let best = results.indices.max { results[$0].attributions[n].logit < results[$1].attributions[n].logit }!
                    let inside = Set(layout.positions[best].compactMap { $0 })
                    for t in whole.ids.indices where !inside.contains(t) { XCTAssertEqual(a.tokens[t], 0) }
                }
            }
        }
    }

    /// `.predicted` for a document is the label its aggregated logits choose, not any window's.
    func testDocumentTargetsFollowTheAggregatedLogits() throws {
        let (model, tokenizer) = try tinyModel()
        let explainer = Explainer(model: model)
        let windows = try XCTUnwrap(tokenizer.encodeWindows(text, maxLength: window, overlap: overlap))
        let batch = TokenBatch(sequences: windows.map(\.ids), typeIds: windows.map(\.typeIds))
        let rows = try model.classify(batch, workspace: model.makeWorkspace())
        let groups = WindowGroups(counts: [windows.count], tokens: windows.map(\.ids.count))
        for aggregation in WindowAggregation.allCases {
            let document = aggregateWindows(rows, groups: groups, aggregation: aggregation)[0]
            let best = document.indices.max { document[$0] < document[$1] }!
            XCTAssertEqual(try explainer.documentTargets(.predicted, windows: batch, aggregation: aggregation, workspace: model.makeWorkspace()),
                           [best], "\(aggregation)")
        }
        XCTAssertEqual(try explainer.documentTargets(.labels([1]), windows: batch, aggregation: .mean, workspace: model.makeWorkspace()), [1])
    }
}
