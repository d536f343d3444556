import Foundation

/// A configuration value of the report (hyper-parameters are strings, numbers or flags).
public enum ReportValue: Sendable, Codable, Equatable, CustomStringConvertible {
    case string(String), number(Double), bool(Bool)

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let n): try c.encode(n)
        case .bool(let b): try c.encode(b)
        }
    }

    public var description: String {
        switch self {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(format: "%g", n)
        case .bool(let b): return b ? "yes" : "no"
        }
    }
}

/// One epoch of training: its mean training loss, the validation metrics, and its cost.
public struct EpochRecord: Sendable, Codable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var validation: ClassificationMetrics?
    public var seconds: Double
    public var examplesPerSecond: Double
    public var learningRate: Double?

    public init(epoch: Int, trainLoss: Double, validation: ClassificationMetrics?, seconds: Double,
                examplesPerSecond: Double, learningRate: Double? = nil) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.validation = validation
        self.seconds = seconds
        self.examplesPerSecond = examplesPerSecond
        self.learningRate = learningRate
    }

    enum CodingKeys: String, CodingKey {
        case epoch, validation, seconds
        case trainLoss = "train_loss", examplesPerSecond = "examples_per_second", learningRate = "learning_rate"
    }
}

/// The training loss at one optimizer step (a finer curve than the per-epoch means).
public struct StepRecord: Sendable, Codable, Equatable {
    public var step: Int
    /// Epochs elapsed, fractional (step 50 of 100 in the second epoch is 1.5).
    public var epoch: Double
    public var loss: Double
    public var learningRate: Double

    public init(step: Int, epoch: Double, loss: Double, learningRate: Double) {
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.learningRate = learningRate
    }

    enum CodingKeys: String, CodingKey { case step, epoch, loss, learningRate = "learning_rate" }
}

/// Wall-clock seconds spent on each phase.
public struct Timings: Sendable, Codable, Equatable {
    public var total: Double
    public var tokenization: Double
    public var training: Double
    public var evaluation: Double

    public init(total: Double = 0, tokenization: Double = 0, training: Double = 0, evaluation: Double = 0) {
        self.total = total
        self.tokenization = tokenization
        self.training = training
        self.evaluation = evaluation
    }
}

/// training_report.json: what was trained on what, how each epoch went, which checkpoint was
/// kept and what it scored. `ReportSVG.render` draws the same numbers.
public struct TrainingReport: Sendable, Codable, Equatable {
    public static let jsonName = "training_report.json"
    public static let svgName = "training_report.svg"

    public var title: String
    /// Hyper-parameters and paths, as the run was configured.
    public var configuration: [String: ReportValue]
    public var labels: [String]
    public var data: DataStatistics?
    public var epochs: [EpochRecord]
    public var steps: [StepRecord]
    /// The metric that selects the kept checkpoint and drives early stopping.
    public var selectionMetric: Metric
    public var bestEpoch: Int?
    public var stoppedEarly: Bool
    /// The kept checkpoint's validation metrics (or a test set's, when one was scored).
    public var finalMetrics: ClassificationMetrics?
    /// k-fold cross-validation: each fold's final metrics.
    public var folds: [ClassificationMetrics]?
    public var timings: Timings
    /// The task trained (absent in reports of single-label runs written before tasks).
    public var task: Task?
    /// Multi-label: per label, the decision threshold tuned on the validation set (stored in the
    /// checkpoint's config.json as decision_thresholds), and the kept checkpoint's metrics at
    /// those thresholds (finalMetrics are at 0.5).
    public var tunedThresholds: [String: Double]?
    public var finalMetricsAtTunedThresholds: ClassificationMetrics?
    /// The kept checkpoint's curves on the validation set.
    public var curves: EvaluationCurves?

    public init(title: String, configuration: [String: ReportValue] = [:], labels: [String], data: DataStatistics? = nil,
                selectionMetric: Metric = .loss) {
        self.title = title
        self.configuration = configuration
        self.labels = labels
        self.data = data
        self.epochs = []
        self.steps = []
        self.selectionMetric = selectionMetric
        self.stoppedEarly = false
        self.timings = Timings()
    }

    enum CodingKeys: String, CodingKey {
        case title, configuration, labels, data, epochs, steps, folds, timings
        case selectionMetric = "selection_metric", bestEpoch = "best_epoch", stoppedEarly = "stopped_early"
        case finalMetrics = "final_metrics", task, tunedThresholds = "tuned_thresholds"
        case finalMetricsAtTunedThresholds = "final_metrics_at_tuned_thresholds", curves
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(self) + Data([0x0A])
    }

    public static func decode(_ data: Data) throws -> TrainingReport {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(TrainingReport.self, from: data)
    }

    /// Mean and sample standard deviation of a metric over the folds (k-fold's summary line).
    public func foldSummary(_ metric: Metric) -> (mean: Double, sd: Double)? {
        let values = (folds ?? []).compactMap { $0.value(of: metric) }
        guard !values.isEmpty, values.count == folds?.count else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.count < 2 ? 0 : values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }
}
