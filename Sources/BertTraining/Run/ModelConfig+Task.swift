import BertCore

extension ModelConfig {
    /// The task a checkpoint was trained for, as its scoring says: the values themselves
    /// (regression), a sigmoid per label (multi-label) or a softmax (single-label).
    public var task: Task {
        switch scoring {
        case .identity: return .regression
        case .sigmoid: return .multiLabel
        case .softmax: return .singleLabel
        }
    }
}
