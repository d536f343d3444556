import Foundation

/// A `train` request: fine-tune a loaded model on a data file the daemon can read, and serve
/// the result under `name` when done.
///
///     {"op": "train", "name": "sentiment", "model": "minilm", "train": "/srv/data/train.tsv",
///      "validation": "/srv/data/dev.tsv", "options": {"method": "lora", "epochs": 3}}
///
/// `options` has the knobs of `bertctl train`, with the Hugging Face recipe's defaults; an
/// unknown key is an error naming it (a typo must not train with a default silently).
public struct TrainingRequest: Sendable, Equatable {
    public var name: String
    public var train: String
    public var validation: String?
    public var options: [String: TrainingValue]
    /// The loaded model to fine-tune, by name (`model`); nil: the default model.
    public var baseModel: String?

    public init(name: String, train: String, validation: String? = nil, options: [String: TrainingValue] = [:],
                baseModel: String? = nil) {
        self.name = name
        self.train = train
        self.validation = validation
        self.options = options
        self.baseModel = baseModel
    }

    /// Every key `options` may hold, with the type it must have.
    public static let optionTypes: [String: TrainingValue.Kind] = [
        "method": .string, "epochs": .integer, "batch_size": .integer, "gradient_accumulation": .integer,
        "learning_rate": .number, "warmup_ratio": .number, "schedule": .string, "weight_decay": .number,
        "max_grad_norm": .number, "layer_decay": .number, "dropout": .number, "loss": .string,
        "class_weights": .string, "focal_gamma": .number, "seed": .integer, "max_length": .integer,
        "eval_steps": .integer, "metric": .string, "patience": .integer, "checkpoint_every": .integer,
        "freeze_layers": .integer, "lora_rank": .integer, "lora_alpha": .number, "lora_dropout": .number,
        "lora_targets": .string, "merge_lora": .bool, "text_column": .string, "pair_column": .string,
        "label_column": .string, "skip_bad_rows": .bool, "validation_fraction": .number, "labels": .string,
        "task": .string, "label_separator": .string, "label_smoothing": .number, "pos_weight": .string,
        "focal_alpha": .number, "huber_delta": .number, "window": .integer, "stride": .integer, "aggregate": .string,
        "tune_threshold": .bool, "sweep_grid": .string, "sweep_ranges": .string, "sweep_random": .integer,
        "sweep_seeds": .integer, "sweep_halving": .bool, "sweep_max_minutes": .number, "c": .number, "min_df": .integer, "max_features": .integer, "char_ngrams": .bool,
    ]

    var json: JSON {
        var fields: [(String, JSON)] = baseModel.map { [("model", .string($0))] } ?? []
        fields += [("name", .string(name)), ("train", .string(train))]
        if let validation { fields.append(("validation", .string(validation))) }
        if !options.isEmpty { fields.append(("options", .object(options.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) }))) }
        return .object(fields)
    }
}

/// One value of a training option.
public enum TrainingValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)

    public enum Kind: Sendable { case string, integer, number, bool }

    public var json: JSON {
        switch self {
        case .string(let s): return .string(s)
        case .integer(let i): return .int(i)
        case .number(let d): return .number(d)
        case .bool(let b): return .bool(b)
        }
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var integer: Int? { if case .integer(let i) = self { return i }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// Integers are numbers too.
    public var number: Double? {
        switch self {
        case .number(let d): return d
        case .integer(let i): return Double(i)
        default: return nil
        }
    }
}
