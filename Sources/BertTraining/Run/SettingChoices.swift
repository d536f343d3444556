// The fixed-choice training settings, spelled once: a daemon job's `options` and bertctl's
// `--method/--schedule/--loss` take these raw values, and every list of choices in help, shell
// completions and error messages is built from the cases.

/// `method`: what trains.
public enum MethodChoice: String, Sendable, CaseIterable {
    case full
    case headOnly = "head-only"
    case lora
    case freezeLower = "freeze-lower"
    /// Not fine-tuning: TF-IDF features + logistic regression (BertBaselines), in seconds.
    case baselineLinear = "baseline-linear"
    /// SetFit: the encoder tuned contrastively on sentence pairs, then a logistic regression on
    /// its embeddings — for a handful of examples per class.
    case fewShot = "few-shot"
}

/// `schedule`: the learning rate after warm-up.
public enum ScheduleChoice: String, Sendable, CaseIterable {
    case linear, constant, cosine
}

/// `loss`. Single-label: cross-entropy (with `label_smoothing`), weighted, focal. Multi-label:
/// bce (with `pos_weight`), focal (the sigmoid form). Regression: mse, huber (`huber_delta`).
/// cross-entropy, the default, means each task's standard loss (bce, mse).
public enum LossChoice: String, Sendable, CaseIterable {
    case crossEntropy = "cross-entropy"
    case weighted
    case focal
    case bce
    case mse
    case huber
}

/// `task`: what the label column holds.
public enum TaskChoice: String, Sendable, CaseIterable {
    case singleLabel = "single-label"
    case multiLabel = "multi-label"
    case regression

    public var task: Task {
        switch self {
        case .singleLabel: return .singleLabel
        case .multiLabel: return .multiLabel
        case .regression: return .regression
        }
    }
}

extension CaseIterable where Self: RawRepresentable, RawValue == String {
    /// "full, head-only, lora or freeze-lower".
    static var choiceList: String {
        let names = allCases.map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}
