import BertCore
import BertTokenizers

/// Integrated gradients of a text read in windows (a model with `long_documents`), as one
/// explanation of the whole text. Every window is explained for the document's targets, and the
/// windows' attributions combine as their logits do (`WindowAggregation`):
/// - mean and weighted: each window's attributions times its weight, added up. Integrated
///   gradients is linear in the explained function, so the tokens still add up to the document's
///   logit minus its baseline's (the windows' baselines aggregated the same way).
/// - max: per label, the attributions of the window that holds the maximum (the first on ties),
///   the window the document's logit is, as the gradient of max goes to it alone.
/// Each token of the text appears once; a token two windows share gets both windows' parts.
public struct WindowedAttributions {
    /// Per window, per token: its index in the whole text's encoding; nil for a special token
    /// (its attribution is 0: the baseline keeps special tokens).
    public let positions: [[Int?]]
    /// Tokens of the whole text's encoding.
    public let length: Int
    public let aggregation: WindowAggregation
    /// The windows' lengths, as classify groups them (the weighted mean's weights).
    let groups: WindowGroups

    /// - Parameters:
    ///   - windows: as `Tokenizer.encodeWindows` made them: consecutive windows share `overlap`
    ///     tokens of the first text, and a pair is whole in each.
    ///   - whole: the text (and pair) encoded without truncation.
    public init(windows: [Encoding], whole: Encoding, overlap: Int, aggregation: WindowAggregation) {
        let first = whole.sequenceIndices.indices.filter { whole.sequenceIndices[$0] == 0 }
        let second = whole.sequenceIndices.indices.filter { whole.sequenceIndices[$0] == 1 }
        var start = 0
        var positions: [[Int?]] = []
        for window in windows {
            var (a, b) = (0, 0)
            positions.append(window.sequenceIndices.map { sequence -> Int? in
                switch sequence {
                case 0: defer { a += 1 }; return first[start + a]
                case 1: defer { b += 1 }; return second[b]
                default: return nil
                }
            })
            start += a - overlap
        }
        self.positions = positions
        length = whole.ids.count
        self.aggregation = aggregation
        groups = WindowGroups(counts: [windows.count], tokens: windows.map(\.ids.count))
    }

    /// The document's explanation from its windows' (one result per window, in order, each for
    /// the same targets in the same order).
    public func combine(_ results: [IntegratedGradientsResult]) -> IntegratedGradientsResult {
        precondition(results.count == positions.count && !results.isEmpty, "one result per window")
        let weights = groups.weights(aggregation)
        let attributions = results[0].attributions.indices.map { n -> Attribution in
            let label = results[0].attributions[n].label
            let parts: [(window: Int, weight: Float)]
            if aggregation == .max {
                var best = 0
                for k in results.indices where results[k].attributions[n].logit > results[best].attributions[n].logit { best = k }
                parts = [(best, 1)]
            } else {
                parts = results.indices.map { ($0, weights[$0]) }
            }
            var tokens = [Float](repeating: 0, count: length)
            var (logit, baselineLogit): (Float, Float) = (0, 0)
            for (k, weight) in parts {
                let a = results[k].attributions[n]
                precondition(a.label == label, "every window explains the same targets")
                for (i, position) in positions[k].enumerated() {
                    if let position { tokens[position] += weight * a.tokens[i] }
                }
                logit += weight * a.logit
                baselineLogit += weight * a.baselineLogit
            }
            return Attribution(label: label, tokens: tokens, logit: logit, baselineLogit: baselineLogit)
        }
        return IntegratedGradientsResult(logits: aggregateWindows(results.map(\.logits), groups: groups, aggregation: aggregation)[0],
                                         attributions: attributions, steps: results[0].steps, rule: results[0].rule,
                                         baseline: results[0].baseline)
    }
}

extension Explainer {
    /// The labels a text read in `windows` is explained for: `requested`, or for `.predicted` the
    /// rule of one sequence (`AttributionTargets.predictedLabels`) on the document's logits, its
    /// windows' aggregated as classify aggregates them.
    public func documentTargets(_ requested: AttributionTargets, windows: TokenBatch, aggregation: WindowAggregation,
                                workspace: Workspace) throws -> [Int] {
        if case .labels(let labels) = requested { return labels }
        let rows = try model.classify(windows, workspace: workspace)
        let groups = WindowGroups(counts: [windows.count], tokens: (0..<windows.count).map { windows.length(of: $0) })
        return AttributionTargets.predictedLabels(logits: aggregateWindows(rows, groups: groups, aggregation: aggregation)[0],
                                                  multiLabel: multiLabel)
    }
}
