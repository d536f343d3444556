import BertCore
import BertPipeline
import BertProtocol
import BertTokenizers
import BertTraining

/// Explanations computed in this process (`bertctl explain --local`, `bertctl eval --errors`),
/// written as the daemon's `explain` reply writes them, so every view reads one format.
public final class InProcessExplainer {
    public let textModel: TextModel
    let explainer: Explainer
    /// The explained model's activations for the document forward that picks a windowed text's targets.
    private lazy var workspace = explainer.model.makeWorkspace()

    /// Throws when an int8 model's directory cannot be loaded again in fp32 (explanations are
    /// computed in fp32: `TextModel.explanationModel()`).
    public init(textModel: TextModel) throws {
        self.textModel = textModel
        explainer = Explainer(model: try textModel.explanationModel())
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
        /// Zero-shot candidate labels: explain the cosine of the text's embedding with theirs.
        public var candidates: [String]?

        public init() {}
    }

    /// One explanation object per text (the reply's `explanations` entries).
    public func explain(_ texts: [String], pairs: [String]? = nil, settings s: Settings) throws -> [JSON] {
        let model = textModel.model
        let outputLabels = s.candidates ?? model.labels
        var targets = AttributionTargets.predicted
        if let names = s.labels {
            targets = .labels(try names.map { name in
                guard let i = outputLabels.firstIndex(of: name) else {
                    throw ExplanationError.invalid("unknown label \"\(name)\" (\(s.candidates == nil ? "the model's" : "the candidate") labels: \(outputLabels.joined(separator: ", ")))")
                }
                return i
            })
        }
        if s.candidates != nil, s.method != .integratedGradients {
            throw ExplanationError.invalid("zero-shot explanations are integrated gradients (attention maps are for classifiers)")
        }
        if s.candidates == nil, !textModel.canClassify {
            throw ExplanationError.invalid("\(textModel.directory.lastPathComponent) has no classification head: give candidate labels to explain it zero-shot")
        }
        let similarity = try s.candidates.map { try textModel.embed(try $0.map { try textModel.prepare($0) }, workspace: textModel.makeWorkspace()) }
        return try texts.enumerated().map { i, text in
            func view(_ encoding: Encoding, windows: Int? = nil) -> ExplanationJSON {
                ExplanationJSON(encoding: encoding, texts: [text] + (pairs.map { [$0[i]] } ?? []), labels: outputLabels,
                                scoring: s.candidates == nil ? model.config.scoring : .softmax,
                                thresholds: s.candidates == nil ? model.config.decisionThresholds : [:],
                                logitScale: s.candidates == nil ? 1 : ZeroShotLabels.defaultScale, windows: windows)
            }
            // A model that reads long documents explains the decision classify makes: over every window.
            let read = try ExplainedSequences(text, pair: pairs?[i], textModel: textModel, truncate: s.truncate, method: s.method,
                                              zeroShot: s.candidates != nil)
            let shown = view(read.shown, windows: read.windows)
            guard let layout = read.layout else {
                return try explainOne(read.shown, view: shown, targets: targets, settings: s, similarity: similarity)
            }
            let labels = try explainer.documentTargets(targets, windows: read.batch, aggregation: layout.aggregation, workspace: workspace)
            let results = try read.sequences.map { w in
                try explainer.finish(try explainer.makeRun(ids: w.ids, typeIds: w.typeIds, special: w.specialTokensMask,
                                                           targets: .labels(labels), steps: s.steps, rule: s.rule, baseline: s.baseline))
            }
            return shown.attributions(layout.combine(results))
        }
    }

    /// One sequence's explanation.
    private func explainOne(_ encoding: Encoding, view: ExplanationJSON, targets: AttributionTargets, settings s: Settings,
                            similarity: [[Float]]?) throws -> JSON {
        switch s.method {
        case .integratedGradients:
            let run = try explainer.makeRun(ids: encoding.ids, typeIds: encoding.typeIds, special: encoding.specialTokensMask,
                                            targets: targets, steps: s.steps, rule: s.rule, baseline: s.baseline,
                                            similarity: similarity)
            return view.attributions(try explainer.finish(run))
        case .attention, .rollout:
            let maps = try explainer.attention(TokenBatch(sequences: [encoding.ids], typeIds: [encoding.typeIds]))[0]
            return view.attention(maps, rollout: s.method == .rollout, layers: s.layers, heads: s.heads)
        }
    }
}
