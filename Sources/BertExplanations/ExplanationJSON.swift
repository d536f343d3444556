import BertCore
import BertPipeline
import BertProtocol
import BertTokenizers
import BertTraining

/// One text's explanation as the `explain` reply carries it (PROTOCOL.md, explain.result schema):
/// the classification, the tokens and the words of the original text with their offsets, and
/// the method's numbers per token and per word. The daemon and `bertctl explain --local` both
/// write it, and every view (terminal, HTML, web console) reads it.
public struct ExplanationJSON {
    public let encoding: Encoding
    public let texts: [String]
    public let labels: [String]
    /// How the text's scores come from its logits (the model's config; softmax for zero-shot).
    public let scoring: ModelConfig.Scoring
    public let thresholds: [String: Float]
    /// The text's logits are the explained outputs times this: 1 for a head; for zero-shot the
    /// explained outputs are cosines and the logits, as classify reports them, 20 × cosine.
    public let logitScale: Float
    /// A model that reads long documents: how many windows the text was read in (`encoding` is
    /// then the whole text's); nil for other models, as in classify's results.
    public let windows: Int?

    public init(encoding: Encoding, texts: [String], labels: [String], scoring: ModelConfig.Scoring,
                thresholds: [String: Float] = [:], logitScale: Float = 1, windows: Int? = nil) {
        self.encoding = encoding
        self.texts = texts
        self.labels = labels
        self.scoring = scoring
        self.thresholds = thresholds
        self.logitScale = logitScale
        self.windows = windows
    }

    var words: [WordSpan] {
        WordSpans.merge(offsets: encoding.offsets, sequences: encoding.sequenceIndices, texts: texts)
    }

    /// Integrated gradients.
    public func attributions(_ result: IntegratedGradientsResult) -> JSON {
        let words = self.words
        let targets = result.attributions.map { a -> JSON in
            .object([
                ("label", .string(labels[a.label])), ("logit", .float(a.logit)), ("baseline_logit", .float(a.baselineLogit)),
                ("completeness_gap", .float(a.completenessGap)),
                ("tokens", .floats(a.tokens)), ("words", .floats(WordSpans.sum(a.tokens, over: words))),
            ])
        }
        return .object(common(logits: result.logits, words: words) + [
            ("steps", .int(result.steps)), ("rule", .string(result.rule.rawValue)), ("baseline", .string(result.baseline.rawValue)),
            ("attributions", .array(targets)),
        ])
    }

    /// Attention maps of the selected layers and heads (all when nil), or their rollout.
    public func attention(_ maps: AttentionMaps, rollout: Bool, layers: [Int]?, heads: [Int]?) -> JSON {
        let words = self.words
        let n = maps.length
        func matrix(_ values: [Float]) -> JSON { .array((0..<n).map { .floats(Array(values[($0 * n)..<(($0 + 1) * n)])) }) }
        if rollout {
            let map = maps.rollout()
            let firstRow = Array(map[0..<n])
            return .object(common(logits: maps.logits, words: words) + [
                ("rollout", matrix(map)),
                ("token_scores", .floats(firstRow)), ("word_scores", .floats(WordSpans.sum(firstRow, over: words))),
            ])
        }
        let layerList = layers ?? Array(0..<maps.layers), headList = heads ?? Array(0..<maps.heads)
        let perLayer = layerList.map { l in JSON.array(headList.map { h in matrix(maps.map(layer: l, head: h)) }) }
        return .object(common(logits: maps.logits, words: words) + [
            ("layers", .array(layerList.map { .int($0) })), ("heads", .array(headList.map { .int($0) })),
            ("attention", .array(perLayer)),
        ])
    }

    private func common(logits outputs: [Float], words: [WordSpan]) -> [(String, JSON)] {
        let logits = outputs.map { $0 * logitScale }
        let c = Classification(labels: labels, logits: logits, scoring: scoring, thresholds: thresholds,
                               truncatedTokens: encoding.truncatedTokenCount)
        let tokens = encoding.tokens
        return [
            ("label", .string(c.label)), ("score", .float(c.score)),
            ("scores", .object(c.scores.map { ($0.label, JSON.float($0.probability)) })), ("logits", .floats(logits)),
            ("tokens", .array(encoding.ids.indices.map { t in
                .object([("token", .string(tokens[t])), ("start", .int(encoding.offsets[t].lowerBound)),
                         ("end", .int(encoding.offsets[t].upperBound)), ("sequence", .int(Int(encoding.sequenceIndices[t])))])
            })),
            ("words", .array(words.map { w in
                .object([("text", .string(w.text)), ("start", .int(w.start)), ("end", .int(w.end)), ("sequence", .int(w.sequence)),
                         ("tokens", .array([.int(w.tokens.lowerBound), .int(w.tokens.upperBound)]))])
            })),
            ("truncated", .bool(encoding.truncatedTokenCount > 0)),
        ] + (windows.map { [("windows", .int($0))] } ?? [])
    }
}
