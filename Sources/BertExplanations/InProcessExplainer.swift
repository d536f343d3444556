import BertCore
import BertPipeline
import BertProtocol
import BertTraining

/// Explanations computed in this process (`bertctl explain --local`, `bertctl eval --errors`),
/// written as the daemon's `explain` reply writes them, so every view reads one format.
public final class InProcessExplainer {
    public let textModel: TextModel
    let explainer: Explainer

    public init(textModel: TextModel) throws {
        self.textModel = textModel
        explainer = Explainer(model: textModel.model)
    }

    public struct Settings {
        public var method: ExplanationMethod = .integratedGradients
        /// Label names to explain (nil: the predicted ones).
        public var labels: [String]?
        public var steps = ExplainRequest.defaultSteps
        public var rule = IntegrationRule.gaussLegendre
        public var baseline = AttributionBaseline.pad
        public var layers: [Int]?
        public var heads: [Int]?
        public var truncate = true

        public init() {}
    }

    /// One explanation object per text (the reply's `explanations` entries).
    public func explain(_ texts: [String], pairs: [String]? = nil, settings s: Settings) throws -> [JSON] {
        let model = textModel.model
        let multiLabel = model.config.problemType == "multi_label_classification"
        var targets = AttributionTargets.predicted
        if let names = s.labels {
            targets = .labels(try names.map { name in
                guard let i = model.labels.firstIndex(of: name) else {
                    throw ExplanationError.invalid("unknown label \"\(name)\" (the model's labels: \(model.labels.joined(separator: ", ")))")
                }
                return i
            })
        }
        return try texts.enumerated().map { i, text in
            let encoding = try textModel.prepare(text, pair: pairs?[i], truncate: s.truncate).encoding
            let view = ExplanationJSON(encoding: encoding, texts: [text] + (pairs.map { [$0[i]] } ?? []), labels: model.labels,
                                       multiLabel: multiLabel)
            switch s.method {
            case .integratedGradients:
                let run = try explainer.makeRun(ids: encoding.ids, typeIds: encoding.typeIds, special: encoding.specialTokensMask,
                                                targets: targets, steps: s.steps, rule: s.rule, baseline: s.baseline)
                return view.attributions(try explainer.finish(run))
            case .attention, .rollout:
                let maps = try explainer.attention(TokenBatch(sequences: [encoding.ids], typeIds: [encoding.typeIds]))[0]
                return view.attention(maps, rollout: s.method == .rollout, layers: s.layers, heads: s.heads)
            }
        }
    }
}
