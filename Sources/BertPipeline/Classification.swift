import BertCore
import Foundation

/// The result of classifying one text.
public struct Classification: Sendable, Equatable {
    /// (label, probability) in label-id order (for a regression model, the output itself).
    public let scores: [(label: String, probability: Float)]
    public let logits: [Float]
    public let truncatedTokens: Int
    /// Sigmoid scoring (multi-label): the labels at or above their decision thresholds, in id order.
    public let selected: [String]?
    /// Regression: the predicted value (the model's one output).
    public let value: Float?
    /// How many windows of the text the logits aggregate (1 unless the model reads long
    /// documents in windows and the text was longer than one).
    public var windows = 1

    /// The predicted label and its probability: the most probable one, or for a binary softmax
    /// model with a decision threshold on label 1 (config.json `decision_thresholds`, tuned by
    /// `--tune-threshold`), label 1 when its probability reaches the threshold.
    public var label: String { scores[bestIndex].label }
    public var score: Float { scores[bestIndex].probability }
    public private(set) var bestIndex = 0

    /// The k most probable labels, best first.
    public func top(_ k: Int) -> [(label: String, probability: Float)] {
        Array(scores.sorted { $0.probability > $1.probability }.prefix(max(k, 0)))
    }

    public init(labels: [String], logits: [Float], multiLabel: Bool, truncatedTokens: Int) {
        self.init(labels: labels, logits: logits, scoring: multiLabel ? .sigmoid : .softmax, truncatedTokens: truncatedTokens)
    }

    /// - Parameter thresholds: sigmoid scoring: per label, the probability that selects it (default 0.5).
    public init(labels: [String], logits: [Float], scoring: ModelConfig.Scoring, thresholds: [String: Float] = [:],
                truncatedTokens: Int) {
        self.logits = logits
        self.truncatedTokens = truncatedTokens
        bestIndex = logits.indices.max { logits[$0] < logits[$1] } ?? 0
        switch scoring {
        case .softmax:
            scores = zip(labels, softmax(logits)).map { ($0, $1) }
            selected = nil
            value = nil
            if labels.count == 2, let t = thresholds[labels[1]] { bestIndex = scores[1].probability >= t ? 1 : 0 }
        case .sigmoid:
            let probabilities = logits.map { 1 / (1 + Foundation.exp(-$0)) }
            scores = zip(labels, probabilities).map { ($0, $1) }
            selected = scores.filter { $0.probability >= (thresholds[$0.label] ?? 0.5) }.map(\.label)
            value = nil
        case .identity:
            scores = zip(labels, logits).map { ($0, $1) }
            selected = nil
            value = logits.first
        }
    }

    /// How a loaded model's logits become scores: its `scoring` and decision thresholds.
    public init(logits: [Float], model: TransformerModel, truncatedTokens: Int) {
        self.init(labels: model.labels, logits: logits, scoring: model.config.scoring, thresholds: model.config.decisionThresholds,
                  truncatedTokens: truncatedTokens)
    }

    public static func == (a: Classification, b: Classification) -> Bool {
        a.logits == b.logits && a.truncatedTokens == b.truncatedTokens && a.scores.map(\.label) == b.scores.map(\.label)
    }
}

/// Numerically stable softmax in Double, returned as Float.
func softmax(_ logits: [Float]) -> [Float] {
    guard let m = logits.max() else { return [] }
    let e = logits.map { Foundation.exp(Double($0 - m)) }
    let s = e.reduce(0, +)
    return e.map { Float($0 / s) }
}
