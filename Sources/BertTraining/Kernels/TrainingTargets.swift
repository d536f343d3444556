/// What a batch is trained towards, one entry per sequence: a class (single-label, Hugging
/// Face's `single_label_classification`), a set of labels (`multi_label_classification`: multi-hot
/// rows of C values 0 or 1; an empty set is a row of zeros), or a number (`regression`, one
/// output).
public enum TrainingTargets: Sendable, Equatable {
    case classes([Int])
    /// (B, C) row-major, 0 or 1.
    case labelSets([Float])
    case values([Float])

    /// Sequences in the batch, given the model's outputs per sequence.
    func count(classes: Int) -> Int {
        switch self {
        case .classes(let y): return y.count
        case .labelSets(let y): return classes > 0 ? y.count / classes : 0
        case .values(let y): return y.count
        }
    }
}
