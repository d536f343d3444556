/// How examples are weighted in the loss: sklearn's `class_weight` (None or "balanced").
public enum ClassWeighting: String, Sendable, Codable, CaseIterable {
    case none
    /// n / (k · count_c): every class then carries the same total weight
    /// (sklearn/utils/class_weight.py `compute_class_weight("balanced", …)`).
    case balanced

    /// The weight of each of `counts.count` classes, given how many examples each has (all > 0).
    func weights(counts: [Int]) -> [Double] {
        switch self {
        case .none: return counts.map { _ in 1 }
        case .balanced:
            let n = Double(counts.reduce(0, +)), k = Double(counts.count)
            return counts.map { n / (k * Double($0)) }
        }
    }
}
