import BertCore
import Foundation

/// The int8 quality gate: a labelled validation set through the same model in fp32 and in int8
/// (the evaluation `bertctl eval` runs), passing when the labels agree on at least
/// `minAgreement` of the texts and accuracy drops by at most `maxAccuracyDropPoints`.
public struct QuantizationGate: Sendable {
    public var minAgreement: Double
    public var maxAccuracyDropPoints: Double

    public init(minAgreement: Double = 0.99, maxAccuracyDropPoints: Double = 0.5) {
        self.minAgreement = minAgreement
        self.maxAccuracyDropPoints = maxAccuracyDropPoints
    }

    public struct Result: Sendable {
        public var fp32: ClassificationMetrics
        public var int8: ClassificationMetrics
        /// Share of texts whose int8 label (or label set, multi-label) is fp32's.
        public var agreement: Double
        public var examples: Int
        public var accuracyChangePoints: Double { (int8.accuracy - fp32.accuracy) * 100 }
        public var macroF1ChangePoints: Double { (int8.macroF1 - fp32.macroF1) * 100 }
        /// "agreement", "accuracy_drop": what failed (empty when the gate passed).
        public var failures: [String]
        /// One line saying what failed and by how much (empty when it passed).
        public var failureMessage: String
        public var passed: Bool { failures.isEmpty }
    }

    /// Runs the classifier `model` (any precision: it is converted) in fp32 and int8 over `data`.
    public func evaluate(_ data: TokenizedDataset, model: TransformerModel) throws -> Result {
        let fp32Model = model.converted(to: .fp32), int8Model = model.converted(to: .int8)
        let (fp32Workspace, int8Workspace) = (fp32Model.makeWorkspace(), int8Model.makeWorkspace())
        return try evaluate(data, labelNames: model.labels, fp32: { try fp32Model.classify($0, workspace: fp32Workspace) },
                            int8: { try int8Model.classify($0, workspace: int8Workspace) })
    }

    /// The gate over any logits (B, labels) of a batch in each precision: a classifier's, or
    /// zero-shot logits of an embedding model (`ZeroShotLabels.logits`).
    public func evaluate(_ data: TokenizedDataset, labelNames: [String], fp32 fp32Logits: (TokenBatch) throws -> [[Float]],
                         int8 int8Logits: (TokenBatch) throws -> [[Float]]) throws -> Result {
        guard data.task != .regression else {
            throw TrainingDataError(.invalidOption, "the int8 gate compares labels; this model is a regression model")
        }
        let (fp32, fp32Logits) = try Evaluation.run(data, labelNames: labelNames, logitsOf: fp32Logits)
        let (int8, int8Logits) = try Evaluation.run(data, labelNames: labelNames, logitsOf: int8Logits)
        let same = zip(fp32Logits, int8Logits).filter { decision($0, task: data.task) == decision($1, task: data.task) }.count
        let agreement = Double(same) / Double(max(fp32Logits.count, 1))
        var result = Result(fp32: fp32, int8: int8, agreement: agreement, examples: fp32Logits.count, failures: [], failureMessage: "")
        var reasons: [String] = []
        if agreement < minAgreement {
            result.failures.append("agreement")
            reasons.append(String(format: "labels agree on %.2f %% of %d texts, below %.2f %%", agreement * 100, result.examples, minAgreement * 100))
        }
        if -result.accuracyChangePoints > maxAccuracyDropPoints {
            result.failures.append("accuracy_drop")
            reasons.append(String(format: "accuracy drops %.2f points (%.2f %% → %.2f %%), more than %.2f", -result.accuracyChangePoints,
                                  fp32.accuracy * 100, int8.accuracy * 100, maxAccuracyDropPoints))
        }
        result.failureMessage = reasons.joined(separator: "; ")
        return result
    }

    /// The predicted label (single-label: argmax; multi-label: the labels with logit ≥ 0, p ≥ 0.5).
    private func decision(_ logits: [Float], task: Task) -> [Int] {
        if task == .multiLabel { return logits.indices.filter { logits[$0] >= 0 } }
        return [logits.indices.max { logits[$0] < logits[$1] } ?? 0]
    }
}
