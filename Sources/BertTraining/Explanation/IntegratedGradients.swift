import BertCore

/// The attribution of one target label's logit to each token of a sequence.
public struct Attribution: Sendable {
    /// The label index whose logit is explained.
    public let label: Int
    /// Per token: Σ over the embedding width of (x − x′) · ∫₀¹ ∂logit/∂x(x′ + α(x − x′)) dα.
    /// Special tokens keep their embedding in the baseline, so theirs is 0.
    public let tokens: [Float]
    /// The label's logit at the input x and at the baseline x′.
    public let logit: Float
    public let baselineLogit: Float
    /// Σ tokens − (logit − baselineLogit): 0 for the exact integral; the quadrature's error.
    public var completenessGap: Float { tokens.reduce(0, +) - (logit - baselineLogit) }
}

/// Integrated gradients of one sequence: the input's logits and one `Attribution` per target.
public struct IntegratedGradientsResult: Sendable {
    public let logits: [Float]
    public let attributions: [Attribution]
    public let steps: Int
    public let rule: IntegrationRule
    public let baseline: AttributionBaseline
}

/// Which labels to explain.
public enum AttributionTargets: Sendable, Equatable {
    /// The predicted label; for a multi-label model every label with probability ≥ 0.5 (the
    /// most probable one when none is).
    case predicted
    case labels([Int])

    /// What `.predicted` explains for these logits: the largest; for a multi-label model every
    /// label with logit ≥ 0 (probability ≥ 0.5), the largest when none is.
    public static func predictedLabels(logits: [Float], multiLabel: Bool) -> [Int] {
        let best = logits.indices.max { logits[$0] < logits[$1] } ?? 0
        let positive = multiLabel ? logits.indices.filter { logits[$0] >= 0 } : []
        return positive.isEmpty ? [best] : positive
    }
}

/// Integrated gradients of one sequence in progress (Sundararajan et al. 2017, on the embeddings'
/// output as Captum's LayerIntegratedGradients): the input and baseline embeddings, the points
/// still to evaluate (targets × steps, each one sequence), and the weighted gradient sum so far.
/// `Explainer.advance` computes its points in chunks, packed with other runs' into padding-free
/// batches, so a long explanation never holds the compute thread for more than one batch.
public final class IntegratedGradientsRun: @unchecked Sendable {
    public let ids: [Int32]
    public let typeIds: [Int32]
    public let special: [Bool]
    public let steps: Int
    public let rule: IntegrationRule
    public let baseline: AttributionBaseline
    let requested: AttributionTargets
    /// Zero-shot: the label vectors (C × H, back to back) whose cosine with the sentence
    /// embedding is explained; nil: the classification head's logits.
    let similarity: [Float]?
    /// Outputs per evaluation: the head's labels, or the label vectors.
    let outputs: Int
    /// Added to the endpoints' outputs: a few-shot head's bias (its rows are `similarity`).
    let outputBias: [Float]?
    let points: [(alpha: Double, weight: Double)]
    let width: Int
    /// x and x′ (L, E): the embeddings module's output for the sequence and its baseline.
    let input: [Float]
    let reference: [Float]
    /// Set by the first chunk, a forward of x and x′ (the targets may depend on the prediction).
    var logits: [Float]?
    var baselineLogits: [Float]?
    public private(set) var targets: [Int] = []
    /// Per target (L·E): Σ over evaluated points of weight · ∂logit/∂x at the point.
    var integrated: [[Double]] = []
    /// The next (target, point) pair to evaluate, as target · steps + point.
    var next = 0

    public var length: Int { ids.count }
    public var isFinished: Bool { logits != nil && next == targets.count * points.count }
    /// Sequences still to compute: the two endpoints first, then every (target, point) pair
    /// (counting one target while the prediction is unknown).
    public var remainingSequences: Int {
        guard logits != nil else { return 2 + max(1, requestedCount) * points.count }
        return targets.count * points.count - next
    }
    public var remainingTokens: Int { remainingSequences * length }
    private var requestedCount: Int {
        if case .labels(let labels) = requested { return labels.count }
        return 1
    }

    init(ids: [Int32], typeIds: [Int32], special: [Bool], targets: AttributionTargets, steps: Int, rule: IntegrationRule,
         baseline: AttributionBaseline, input: [Float], reference: [Float], width: Int, similarity: [Float]?, outputs: Int,
         outputBias: [Float]? = nil) throws {
        self.similarity = similarity
        self.outputs = outputs
        self.outputBias = outputBias
        self.ids = ids
        self.typeIds = typeIds
        self.special = special
        self.requested = targets
        self.steps = steps
        self.rule = rule
        self.baseline = baseline
        self.points = try rule.points(steps)
        self.input = input
        self.reference = reference
        self.width = width
    }

    /// Called with the endpoints' logits: fixes the targets.
    func start(logits: [Float], baselineLogits: [Float], multiLabel: Bool) {
        let bias = outputBias ?? []
        self.logits = bias.isEmpty ? logits : zip(logits, bias).map(+)
        self.baselineLogits = bias.isEmpty ? baselineLogits : zip(baselineLogits, bias).map(+)
        let logits = self.logits!
        switch requested {
        case .labels(let labels): targets = labels
        case .predicted: targets = AttributionTargets.predictedLabels(logits: logits, multiLabel: multiLabel)
        }
        integrated = targets.map { _ in [Double](repeating: 0, count: ids.count * width) }
    }

    /// The embedded point x′ + α(x − x′) of entry `e` (target · steps + point), into `out` (L, E).
    func writePoint(_ entry: Int, into out: UnsafeMutablePointer<Float>) {
        let alpha = Float(points[entry % points.count].alpha)
        for i in 0..<input.count { out[i] = reference[i] + alpha * (input[i] - reference[i]) }
    }

    /// Adds the weighted gradient (L, E) of entry `e`.
    func accumulate(_ entry: Int, gradient: UnsafePointer<Float>) {
        let (target, weight) = (entry / points.count, points[entry % points.count].weight)
        integrated[target].withUnsafeMutableBufferPointer { sum in
            for i in 0..<sum.count { sum[i] += weight * Double(gradient[i]) }
        }
    }

    /// The finished explanation.
    public func result() -> IntegratedGradientsResult {
        precondition(isFinished, "the run still has points to evaluate")
        let l = ids.count
        let attributions = targets.enumerated().map { n, label -> Attribution in
            let tokens = (0..<l).map { i -> Float in
                var sum = 0.0
                for c in 0..<width {
                    let k = i * width + c
                    sum += Double(input[k] - reference[k]) * integrated[n][k]
                }
                return Float(sum)
            }
            return Attribution(label: label, tokens: tokens, logit: logits![label], baselineLogit: baselineLogits![label])
        }
        return IntegratedGradientsResult(logits: logits!, attributions: attributions, steps: steps, rule: rule, baseline: baseline)
    }
}
