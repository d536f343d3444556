import Foundation

/// The result of classifying one text.
public struct Classification: Sendable, Equatable {
    /// (label, probability) in label-id order.
    public let scores: [(label: String, probability: Float)]
    public let logits: [Float]
    public let truncatedTokens: Int

    /// The most probable label and its probability.
    public var label: String { scores[bestIndex].label }
    public var score: Float { scores[bestIndex].probability }
    public var bestIndex: Int { logits.indices.max { logits[$0] < logits[$1] } ?? 0 }

    /// The k most probable labels, best first.
    public func top(_ k: Int) -> [(label: String, probability: Float)] {
        Array(scores.sorted { $0.probability > $1.probability }.prefix(max(k, 0)))
    }

    public init(labels: [String], logits: [Float], multiLabel: Bool, truncatedTokens: Int) {
        self.logits = logits
        self.truncatedTokens = truncatedTokens
        let probabilities = multiLabel ? logits.map { 1 / (1 + Foundation.exp(-$0)) } : softmax(logits)
        scores = zip(labels, probabilities).map { ($0, $1) }
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
