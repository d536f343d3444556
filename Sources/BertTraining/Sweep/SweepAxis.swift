import Foundation

/// A hyper-parameter a sweep can vary: its name on bertctl train's command line (`lr`,
/// `batch-size`), the `TrainingSettings` key it sets (`learning_rate`, `batch_size`) and the kind
/// of values it takes. `all` is the one table; anything else is rejected with its list.
public struct SweepAxis: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case number
        case integer
        /// One of fixed spellings (`SettingChoices`).
        case choice([String])
    }

    public let name: String
    public let key: String
    public let kind: Kind

    public static let all: [SweepAxis] = [
        SweepAxis(name: "lr", key: "learning_rate", kind: .number),
        SweepAxis(name: "batch-size", key: "batch_size", kind: .integer),
        SweepAxis(name: "epochs", key: "epochs", kind: .integer),
        SweepAxis(name: "warmup-ratio", key: "warmup_ratio", kind: .number),
        SweepAxis(name: "weight-decay", key: "weight_decay", kind: .number),
        SweepAxis(name: "dropout", key: "dropout", kind: .number),
        // A baseline is not a fine-tuning run: FineTuneRun cannot train it.
        SweepAxis(name: "method", key: "method", kind: .choice(MethodChoice.allCases.filter { $0 != .baselineLinear && $0 != .fewShot }.map(\.rawValue))),
        SweepAxis(name: "freeze-layers", key: "freeze_layers", kind: .integer),
        SweepAxis(name: "lora-rank", key: "lora_rank", kind: .integer),
        SweepAxis(name: "lora-alpha", key: "lora_alpha", kind: .number),
        SweepAxis(name: "lora-dropout", key: "lora_dropout", kind: .number),
        SweepAxis(name: "gradient-accumulation", key: "gradient_accumulation", kind: .integer),
        SweepAxis(name: "schedule", key: "schedule", kind: .choice(ScheduleChoice.allCases.map(\.rawValue))),
        SweepAxis(name: "max-grad-norm", key: "max_grad_norm", kind: .number),
        SweepAxis(name: "layer-decay", key: "layer_decay", kind: .number),
        SweepAxis(name: "loss", key: "loss", kind: .choice(LossChoice.allCases.map(\.rawValue))),
        SweepAxis(name: "label-smoothing", key: "label_smoothing", kind: .number),
        SweepAxis(name: "focal-gamma", key: "focal_gamma", kind: .number),
        SweepAxis(name: "max-length", key: "max_length", kind: .integer),
    ]

    /// By its option name (`batch-size`) or its settings key (`batch_size`).
    public static func named(_ name: String) throws -> SweepAxis {
        if let axis = all.first(where: { $0.name == name || $0.key == name }) { return axis }
        let hint = name == "seed" ? " (repeat every point with other seeds with --seeds K)" : ""
        throw TrainingDataError(.invalidOption, "unknown sweep axis \"\(name)\"\(hint); axes are \(all.map(\.name).joined(separator: ", "))")
    }

    /// One value as the command line spells it ("3e-5", "16", "lora").
    func value(parsing text: String) throws -> TrainingSettings.Value {
        let text = text.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .number:
            guard let d = Double(text), d.isFinite else { throw TrainingDataError(.invalidOption, "\(name): \"\(text)\" is not a number") }
            return .number(d)
        case .integer:
            guard let i = Int(text) else { throw TrainingDataError(.invalidOption, "\(name): \"\(text)\" is not an integer") }
            return .integer(i)
        case .choice(let names):
            guard names.contains(text) else {
                throw TrainingDataError(.invalidOption, "\(name) must be one of \(names.joined(separator: ", ")), not \"\(text)\"")
            }
            return .string(text)
        }
    }
}

extension TrainingSettings.Value {
    /// As a person (and a directory name) reads it: 3e-05, 0.1, 16, lora.
    public var display: String {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .number(let d): return String(format: "%g", d)
        case .bool(let b): return b ? "true" : "false"
        }
    }
}
