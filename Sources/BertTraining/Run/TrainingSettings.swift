import BertCore
import Foundation

/// A fine-tuning run described by named settings, as a daemon job receives them (JSON) and keeps
/// them (job.json): `method`, `epochs`, `learning_rate`, … with the Hugging Face recipe's
/// defaults for whatever is absent. `options(classCounts:)` turns them into `FineTuneOptions`,
/// with one error per bad value, naming the setting.
public struct TrainingSettings: Sendable, Equatable, Codable {
    public enum Value: Sendable, Equatable, Codable {
        case string(String)
        case integer(Int)
        case number(Double)
        case bool(Bool)

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let i = try? c.decode(Int.self) { self = .integer(i) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else { self = .string(try c.decode(String.self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .string(let s): try c.encode(s)
            case .integer(let i): try c.encode(i)
            case .number(let d): try c.encode(d)
            case .bool(let b): try c.encode(b)
            }
        }
    }

    public var values: [String: Value]

    public init(_ values: [String: Value] = [:]) { self.values = values }

    public init(from decoder: Decoder) throws { values = try decoder.singleValueContainer().decode([String: Value].self) }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }

    /// A bad setting: its name and what is wrong.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    private func string(_ key: String, _ fallback: String) throws -> String {
        guard let v = values[key] else { return fallback }
        guard case .string(let s) = v else { throw Invalid(description: "\"\(key)\" must be a string") }
        return s
    }

    /// One of a fixed set of spellings (`MethodChoice`, `Metric`, …); an error lists them.
    private func choice<C: CaseIterable & RawRepresentable>(_ key: String, _ fallback: C) throws -> C where C.RawValue == String {
        let name = try string(key, fallback.rawValue)
        guard let value = C(rawValue: name) else {
            throw Invalid(description: "\"\(key)\" must be \(C.choiceList), not \"\(name)\"")
        }
        return value
    }

    private func integer(_ key: String) throws -> Int? {
        guard let v = values[key] else { return nil }
        guard case .integer(let i) = v else { throw Invalid(description: "\"\(key)\" must be an integer") }
        return i
    }

    private func integer(_ key: String, _ fallback: Int, min: Int) throws -> Int {
        let i = try integer(key) ?? fallback
        guard i >= min else { throw Invalid(description: "\"\(key)\" must be at least \(min)") }
        return i
    }

    private func number(_ key: String) throws -> Double? {
        switch values[key] {
        case nil: return nil
        case .number(let d)?: return d
        case .integer(let i)?: return Double(i)
        default: throw Invalid(description: "\"\(key)\" must be a number")
        }
    }

    private func number(_ key: String, _ fallback: Double, in range: ClosedRange<Double>) throws -> Double {
        let d = try number(key) ?? fallback
        guard range.contains(d) else { throw Invalid(description: "\"\(key)\" must be between \(range.lowerBound) and \(range.upperBound)") }
        return d
    }

    private func bool(_ key: String, _ fallback: Bool) throws -> Bool {
        guard let v = values[key] else { return fallback }
        guard case .bool(let b) = v else { throw Invalid(description: "\"\(key)\" must be true or false") }
        return b
    }

    /// Which columns hold text, pair and label.
    public func datasetOptions() throws -> DatasetOptions {
        var o = DatasetOptions(textColumn: try string("text_column", "text"),
                               pairColumn: values["pair_column"] == nil ? nil : try string("pair_column", ""),
                               labelColumn: try string("label_column", "label"), skipBadRows: try bool("skip_bad_rows", false))
        o.task = try task()
        o.detectTask = values["task"] == nil
        o.labelSeparator = try string("label_separator", "|")
        guard !o.labelSeparator.isEmpty else { throw Invalid(description: "\"label_separator\" must not be empty") }
        return o
    }

    /// `task`: single-label (default), multi-label or regression.
    public func task() throws -> Task { try choice("task", TaskChoice.singleLabel).task }

    /// The held-out fraction of the training file when there is no validation file.
    public func validationFraction() throws -> Double { try number("validation_fraction", 0.1, in: 0.01...0.5) }

    /// Labels in id order, when given ("neg,pos"); nil: those in the data, sorted.
    public func labels() throws -> [String]? {
        guard values["labels"] != nil else { return nil }
        let list = try string("labels", "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let minimum = try task() == .singleLabel ? 2 : 1
        guard list.count >= minimum, !list.contains("") else {
            throw Invalid(description: "\"labels\" must name at least \(minimum == 2 ? "two labels" : "one label"), comma-separated")
        }
        return list
    }

    public func seed() throws -> UInt64 { UInt64(try integer("seed", 42, min: 0)) }

    /// `method`: what trains (fine-tuning of some kind, or a baseline).
    public func method() throws -> MethodChoice { try choice("method", MethodChoice.full) }

    /// A linear baseline's settings (`method` baseline-linear): sklearn's `C`, `min_df`,
    /// `max_features` (per vectorizer; 0: no limit), `char_ngrams` (the char_wb 3–5-gram block on
    /// or off), and class weights "balanced" with `loss` weighted.
    public struct LinearBaselineSettings: Sendable, Equatable {
        public var c: Double
        public var minDF: Int
        public var maxFeatures: Int?
        public var charNgrams: Bool
        public var balanced: Bool
    }

    /// A few-shot run's settings (`method` few-shot), SetFit's defaults where unset: lr 2e-5,
    /// 1 epoch over the pairs, 16 pairs per step, `pair_iterations` (none: SetFit's
    /// oversampling), and the logistic regression's `c`.
    public func fewShot() throws -> FewShotOptions {
        var o = FewShotOptions()
        o.learningRate = Float(try number("learning_rate", Double(o.learningRate), in: 1e-9...10))
        o.epochs = try integer("epochs", o.epochs, min: 1)
        o.batchSize = try integer("batch_size", o.batchSize, min: 1)
        o.warmupRatio = try number("warmup_ratio", o.warmupRatio, in: 0...1)
        o.weightDecay = Float(try number("weight_decay", Double(o.weightDecay), in: 0...10))
        o.maxGradNorm = Float(try number("max_grad_norm", Double(o.maxGradNorm), in: 0...1e6))
        o.dropout = Float(try number("dropout", Double(o.dropout), in: 0...0.99))
        o.seed = try seed()
        o.maxLength = try integer("max_length", o.maxLength, min: 2)
        if values["pair_iterations"] != nil { o.pairIterations = try integer("pair_iterations", 20, min: 1) }
        o.c = try number("c", o.c, in: 1e-6...1e6)
        return o
    }

    public func linearBaseline() throws -> LinearBaselineSettings {
        let maxFeatures = try integer("max_features", 200_000, min: 0)
        let loss = try choice("loss", LossChoice.crossEntropy)
        guard loss == .crossEntropy || loss == .weighted else {
            throw Invalid(description: "\"loss\" \(loss.rawValue) is not for a linear baseline (cross-entropy, or weighted for balanced class weights)")
        }
        return LinearBaselineSettings(c: try number("c", 1, in: 1e-6...1e6), minDF: try integer("min_df", 2, min: 1),
                                      maxFeatures: maxFeatures == 0 ? nil : maxFeatures, charNgrams: try bool("char_ngrams", true),
                                      balanced: loss == .weighted)
    }

    /// The run's options; class counts (multi-label: positives per label) and the number of
    /// training examples are needed for "balanced" class and positive weights.
    public func options(classCounts: [Int], examples: Int? = nil) throws -> FineTuneOptions {
        var o = FineTuneOptions()
        switch try method() {
        case .baselineLinear:
            throw Invalid(description: "\"method\" baseline-linear trains a TF-IDF + logistic-regression baseline, not a fine-tuning run")
        case .fewShot:
            throw Invalid(description: "\"method\" few-shot trains contrastively on sentence pairs, not a fine-tuning run")
        case .full: o.method = .full
        case .headOnly: o.method = .headOnly
        case .freezeLower: o.method = .freezeLower(try integer("freeze_layers", 0, min: 0))
        case .lora:
            var targets: [LoRATarget] = []
            for name in try string("lora_targets", "query,value").split(separator: ",") {
                let key = name.trimmingCharacters(in: .whitespaces)
                guard let t = LoRATarget(settingName: key) else {
                    throw Invalid(description: "unknown LoRA target \"\(key)\" (query, key, value, attention_output, intermediate, output)")
                }
                targets.append(t)
            }
            o.method = .lora(LoRAConfig(rank: try integer("lora_rank", 8, min: 1), alpha: Float(try number("lora_alpha", 16, in: 1e-6...1e6)),
                                        dropout: Float(try number("lora_dropout", 0, in: 0...0.99)), targets: targets))
        }
        o.mergeLoRA = try bool("merge_lora", false)
        o.epochs = try integer("epochs", 3, min: 1)
        o.batchSize = try integer("batch_size", 32, min: 1)
        o.gradientAccumulation = try integer("gradient_accumulation", 1, min: 1)
        o.learningRate = Float(try number("learning_rate", 5e-5, in: 1e-9...10))
        o.warmupRatio = try number("warmup_ratio", 0.1, in: 0...1)
        switch try choice("schedule", ScheduleChoice.linear) {
        case .linear: o.schedule = .linear
        case .constant: o.schedule = .constant
        case .cosine: o.schedule = .cosine
        }
        o.weightDecay = Float(try number("weight_decay", 0.01, in: 0...10))
        let clip = try number("max_grad_norm", 1, in: 0...1e6)
        o.maxGradNorm = clip > 0 ? Float(clip) : nil
        if values["layer_decay"] != nil { o.layerDecay = Float(try number("layer_decay", 1, in: 1e-6...1)) }
        let dropout = Float(try number("dropout", 0.1, in: 0...0.99))
        o.dropout = DropoutRates(hidden: dropout, attention: dropout, classifier: dropout)
        o.loss = try loss(classCounts: classCounts, examples: examples)
        o.seed = try seed()
        o.maxLength = try integer("max_length", 128, min: 2)
        o.windows = try windows()
        o.tuneThreshold = try bool("tune_threshold", false)
        o.evalEverySteps = values["eval_steps"] == nil ? nil : try integer("eval_steps", 1, min: 1)
        o.checkpointEverySteps = values["checkpoint_every"] == nil ? nil : try integer("checkpoint_every", 1, min: 1)
        o.selectionMetric = try choice("metric", Metric.loss)
        o.patience = values["patience"] == nil ? nil : try integer("patience", 1, min: 1)
        return o
    }
}

extension TrainingSettings {
    /// Long documents: any of `window` (tokens; 0 = the model's maximum), `stride` (the overlap;
    /// default a quarter of the window) or `aggregate` turns windows on.
    func windows() throws -> LongDocumentPolicy? {
        guard values["window"] != nil || values["stride"] != nil || values["aggregate"] != nil else { return nil }
        let window = try integer("window", 0, min: 0)
        if window > 0, window < 8 { throw Invalid(description: "\"window\" must be 0 (the model's maximum) or at least 8 tokens") }
        let overlap = values["stride"] == nil ? LongDocumentPolicy.quarterOverlap : try integer("stride", 0, min: 0)
        if window > 0, overlap != LongDocumentPolicy.quarterOverlap, overlap >= window - 4 {
            throw Invalid(description: "\"stride\" (the overlap of consecutive windows) must be below the window minus its special tokens (got \(overlap) for a window of \(window))")
        }
        return LongDocumentPolicy(window: window, overlap: overlap, aggregation: try choice("aggregate", WindowAggregation.mean))
    }

    /// The loss for the task: `loss` with its parameters.
    func loss(classCounts: [Int], examples: Int?) throws -> LossFunction {
        let task = try self.task()
        let choice = try choice("loss", LossChoice.crossEntropy)
        func wrongTask() -> Invalid {
            Invalid(description: "\"loss\" \(choice.rawValue) is not for \(task.rawValue) data (single-label: cross-entropy, weighted, focal; multi-label: bce, weighted, focal; regression: mse, huber)")
        }
        let smoothing = Float(try number("label_smoothing", 0, in: 0...0.99))
        switch (task, choice) {
        case (.singleLabel, .crossEntropy): return smoothing > 0 ? .labelSmoothing(epsilon: smoothing) : .crossEntropy
        case (.singleLabel, .focal): return .focal(gamma: Float(try number("focal_gamma", 2, in: 0...100)))
        case (.singleLabel, .weighted):
            let weights = try string("class_weights", "balanced")
            if weights == "balanced" {
                let total = Float(classCounts.reduce(0, +))
                return .weightedCrossEntropy(classWeights: classCounts.map { total / (Float(classCounts.count) * Float(max($0, 1))) })
            }
            let w = weights.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard w.count == classCounts.count else { throw Invalid(description: "\"class_weights\" needs \(classCounts.count) numbers or \"balanced\"") }
            return .weightedCrossEntropy(classWeights: w)
        case (.multiLabel, .crossEntropy), (.multiLabel, .bce): return .binaryCrossEntropy(positiveWeights: nil)
        case (.multiLabel, .weighted):
            // pos_weight per label: "balanced" = negatives / positives in the training data.
            let weights = try string("pos_weight", "balanced")
            if weights == "balanced" {
                let n = Float(examples ?? classCounts.max() ?? 1)
                return .binaryCrossEntropy(positiveWeights: classCounts.map { (n - Float($0)) / Float(max($0, 1)) })
            }
            let w = weights.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard w.count == classCounts.count, w.allSatisfy({ $0 > 0 }) else {
                throw Invalid(description: "\"pos_weight\" needs \(classCounts.count) positive numbers or \"balanced\"")
            }
            return .binaryCrossEntropy(positiveWeights: w)
        case (.multiLabel, .focal):
            return .sigmoidFocal(alpha: Float(try number("focal_alpha", 0.25, in: -1...1)), gamma: Float(try number("focal_gamma", 2, in: 0...100)))
        case (.regression, .crossEntropy), (.regression, .mse): return .meanSquaredError
        case (.regression, .huber): return .huber(delta: Float(try number("huber_delta", 1, in: 1e-6...1e6)))
        default: throw wrongTask()
        }
    }
}

extension LoRATarget {
    /// By its snake_case name (attention_output) or its case name (attentionOutput).
    public init?(settingName: String) {
        let camel = settingName.split(separator: "_").enumerated()
            .map { $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }.joined()
        self.init(rawValue: camel)
    }
}
