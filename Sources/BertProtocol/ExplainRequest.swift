import Foundation

/// What an explanation shows.
public enum ExplanationMethod: String, Sendable, CaseIterable {
    /// Per token and word: how much it moved the label's logit (integrated gradients).
    case integratedGradients = "integrated_gradients"
    /// Every layer's and head's attention probabilities (or the selected ones).
    case attention
    /// One map: attention rollout through the layers.
    case rollout
}

/// explain: why the model classifies these texts as it does.
///
///     {"op": "explain", "model": "sentiment", "texts": ["the acting was dreadful"],
///      "method": "integrated_gradients", "label": "negative", "steps": 32}
public struct ExplainRequest: Sendable, Equatable {
    /// Texts, pairs, model, deadline and truncation, as classify takes them; its `labels` are
    /// zero-shot candidates (the text's cosine similarity with each label's embedding is then
    /// explained instead of a classification head's logits).
    public var inference: Inference
    public var method: ExplanationMethod
    /// The labels whose logits to explain; nil: the predicted one (every predicted label of a
    /// multi-label model).
    public var labels: [String]?
    /// Integrated gradients: interpolation points, the quadrature rule and the baseline (names
    /// checked by the engine's own lists).
    public var steps: Int
    public var rule: String
    public var baseline: String
    /// Attention: only these layers / heads (nil: all).
    public var layers: [Int]?
    public var heads: [Int]?

    /// Texts one explain request may carry (each is `steps` sequences of work).
    public static let maxTexts = 16
    public static let defaultSteps = 32

    public init(inference: Inference, method: ExplanationMethod = .integratedGradients, labels: [String]? = nil,
                steps: Int = ExplainRequest.defaultSteps, rule: String = "gauss_legendre", baseline: String = "pad",
                layers: [Int]? = nil, heads: [Int]? = nil) {
        self.inference = inference
        self.method = method
        self.labels = labels
        self.steps = steps
        self.rule = rule
        self.baseline = baseline
        self.layers = layers
        self.heads = heads
    }

    var fields: [(String, JSON)] {
        var fields = inference.fields
        fields.append(("method", .string(method.rawValue)))
        if let labels { fields.append(("label", labels.count == 1 ? .string(labels[0]) : .array(labels.map { .string($0) }))) }
        if method == .integratedGradients {
            fields += [("steps", .int(steps)), ("rule", .string(rule)), ("baseline", .string(baseline))]
        }
        if let layers { fields.append(("layers", .array(layers.map { .int($0) }))) }
        if let heads { fields.append(("heads", .array(heads.map { .int($0) }))) }
        return fields
    }
}

extension RequestParser {
    /// The fields of explain, each checked.
    public static func explainRequest(_ f: [String: Any], model: String?) throws -> ExplainRequest {
        if f["top_k"] != nil { throw ProtocolError(.badRequest, "explain takes no \"top_k\" (every label's score is in the reply)") }
        var r = ExplainRequest(inference: try inference(f, model: model))
        guard r.inference.texts.count <= ExplainRequest.maxTexts else {
            throw ProtocolError(.tooLarge, "\(r.inference.texts.count) texts in one explanation; the limit is \(ExplainRequest.maxTexts)")
        }
        if let name = try optional(f, "method", String.self) {
            guard let method = ExplanationMethod(rawValue: name) else {
                throw ProtocolError(.badRequest, "unknown method \"\(name)\" (known: \(ExplanationMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            r.method = method
        }
        switch f["label"] {
        case nil, is NSNull: break
        case let one as String: r.labels = [one]
        default:
            let labels = try stringArray(f, "label")
            guard !labels.isEmpty else { throw ProtocolError(.badRequest, "\"label\" is empty") }
            r.labels = labels
        }
        if r.method != .integratedGradients, let ignored = ["steps", "rule", "baseline"].first(where: { f[$0] != nil && !(f[$0] is NSNull) }) {
            throw ProtocolError(.badRequest, "\"\(ignored)\" is a setting of integrated_gradients; method \(r.method.rawValue) takes none")
        }
        r.steps = try optional(f, "steps", Int.self) ?? ExplainRequest.defaultSteps
        r.rule = try optional(f, "rule", String.self) ?? r.rule
        r.baseline = try optional(f, "baseline", String.self) ?? r.baseline
        r.layers = try optionalIntArray(f, "layers")
        r.heads = try optionalIntArray(f, "heads")
        return r
    }

    private static func optionalIntArray(_ f: [String: Any], _ key: String) throws -> [Int]? {
        guard let raw = f[key], !(raw is NSNull) else { return nil }
        guard let array = raw as? [Any], !array.isEmpty,
              let numbers = array as? [NSNumber], numbers.allSatisfy(JSONNumber.isInteger), numbers.allSatisfy({ $0.intValue >= 0 })
        else { throw ProtocolError(.badRequest, "\"\(key)\" must be a non-empty array of indices (integers ≥ 0)") }
        return numbers.map(\.intValue)
    }
}
