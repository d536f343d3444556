import BertTraining
import Foundation

/// A training job as the daemon keeps it (job.json in its directory under the state directory)
/// and reports it (`jobs`, events). Owned by the I/O thread; the compute thread gets a copy.
struct TrainingJob: Codable, Sendable, Equatable {
    enum State: String, Codable, Sendable, CaseIterable {
        case queued, running, finished, failed, cancelled
        /// The daemon stopped during the job: it resumes from its last resume point when started again.
        case interrupted

        var isFinal: Bool { self == .finished || self == .failed || self == .cancelled }
    }

    struct Progress: Codable, Sendable, Equatable {
        var epoch: Int
        var epochs: Int
        var step: Int
        var totalSteps: Int
        var loss: Double
        var learningRate: Double
        var examplesPerSecond: Double
        var secondsLeft: Double
    }

    struct Metrics: Codable, Sendable, Equatable {
        var loss: Double
        var accuracy: Double
        var macroF1: Double
        var rocAUC: Double?
        /// Label names and confusion[true][predicted] on the validation set (absent in records
        /// written before they were kept).
        var labels: [String]?
        var confusion: [[Int]]?
        /// The task's own scores: multi-label (then accuracy is the subset accuracy and there is
        /// no confusion matrix) or regression (then loss is the mean squared error).
        var multiLabel: MultiLabelSummary?
        var regression: RegressionSummary?
    }

    struct MultiLabelSummary: Codable, Sendable, Equatable {
        var microF1: Double
        var hammingLoss: Double
        var labelRankingAveragePrecision: Double
    }

    struct RegressionSummary: Codable, Sendable, Equatable {
        var mse: Double
        var mae: Double
        var pearson: Double
        var spearman: Double
    }

    let id: String
    /// The model name the result is served under when the job finishes.
    let name: String
    /// The base model: its registry name when submitted, and its directory.
    let baseModel: String
    let basePath: String
    let train: String
    let validation: String?
    let settings: TrainingSettings
    let created: Date
    var state: State = .queued
    var started: Date?
    var finished: Date?
    var progress: Progress?
    var metrics: Metrics?
    var error: String?
    /// Continue from the output's resume point (after an interruption).
    var resume = false
    /// The directory a finished job's model is served from, and whether it still is (an unload
    /// of its name, or a load of another directory under it, ends that). Served models are
    /// loaded again when the daemon starts.
    var servedPath: String?
    var served = false
    var cancelRequested = false

    static let fileName = "job.json"
    static let outputName = "output"
}

extension TrainingJob.Metrics {
    init(_ m: ClassificationMetrics) {
        self.init(loss: m.loss, accuracy: m.accuracy, macroF1: m.macroF1, rocAUC: m.rocAUC,
                  labels: m.perClass.map(\.label), confusion: m.confusion,
                  multiLabel: m.multiLabel.map { TrainingJob.MultiLabelSummary(microF1: $0.microF1, hammingLoss: $0.hammingLoss,
                                                                   labelRankingAveragePrecision: $0.labelRankingAveragePrecision) },
                  regression: m.regression.map { TrainingJob.RegressionSummary(mse: $0.mse, mae: $0.mae, pearson: $0.pearson, spearman: $0.spearman) })
    }
}
