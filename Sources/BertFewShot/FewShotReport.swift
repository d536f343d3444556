import BertTraining
import Foundation

/// What a few-shot run did and how well its model scores: `few_shot_report.json` in the model
/// directory, and what `bertctl train --method few-shot` prints.
public struct FewShotReport: Sendable, Codable, Equatable {
    public static let fileName = "few_shot_report.json"

    public var method = "few-shot"
    public var baseModel: String
    public var labels: [String]
    /// Training texts per class, in label order.
    public var examplesPerClass: [Int]
    public var pairs: Int
    public var positivePairs: Int
    public var steps: Int
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var pairIterations: Int?
    public var c: Double
    public var seed: UInt64
    /// The contrastive loss of every optimizer step.
    public var losses: [Float]
    public var headIterations: Int
    public var headStop: String
    /// Seconds: body (contrastive training), head (embedding the texts and fitting), total.
    public var bodySeconds: Double
    public var headSeconds: Double
    public var totalSeconds: Double
    /// The head's fit on the training texts, and the model on the validation set (if any).
    public var train: ClassificationMetrics
    public var validation: ClassificationMetrics?

    enum CodingKeys: String, CodingKey {
        case method, baseModel = "base_model", labels, examplesPerClass = "examples_per_class", pairs,
             positivePairs = "positive_pairs", steps, epochs, batchSize = "batch_size", learningRate = "learning_rate",
             pairIterations = "pair_iterations", c, seed, losses, headIterations = "head_iterations", headStop = "head_stop",
             bodySeconds = "body_seconds", headSeconds = "head_seconds", totalSeconds = "total_seconds", train, validation
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }
}
