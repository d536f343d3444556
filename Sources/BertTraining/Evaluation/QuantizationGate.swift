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

    /// Runs the classifier `model` (any precision: it is converted) in fp32 and int8 over `data`,
    /// deciding as the model is served: at its config's `decision_thresholds` when it has them.
    public func evaluate(_ data: TokenizedDataset, model: TransformerModel) throws -> Result {
        let fp32Model = model.converted(to: .fp32), int8Model = model.converted(to: .int8)
        let (fp32Workspace, int8Workspace) = (fp32Model.makeWorkspace(), int8Model.makeWorkspace())
        let configured = model.config.decisionThresholds
        let thresholds = configured.isEmpty ? nil : model.labels.map { Double(configured[$0] ?? 0.5) }
        return try evaluate(data, labelNames: model.labels, thresholds: thresholds,
                            fp32: { try fp32Model.classify($0, workspace: fp32Workspace) },
                            int8: { try int8Model.classify($0, workspace: int8Workspace) })
    }

    /// The gate over any logits (B, labels) of a batch in each precision: a classifier's, or
    /// zero-shot logits of an embedding model (`ZeroShotLabels.logits`). `thresholds` (per label,
    /// a probability) decide as `ClassificationMetrics` does: multi-label, a label when its
    /// sigmoid reaches its threshold; a binary single-label model, label 1 when its softmax
    /// probability reaches thresholds[1]; nil: 0.5 and argmax.
    public func evaluate(_ data: TokenizedDataset, labelNames: [String], thresholds: [Double]? = nil,
                         fp32 fp32Logits: (TokenBatch) throws -> [[Float]],
                         int8 int8Logits: (TokenBatch) throws -> [[Float]]) throws -> Result {
        guard data.task != .regression else {
            throw TrainingDataError(.invalidOption, "the int8 gate compares labels; this model is a regression model")
        }
        let (fp32, fp32Logits) = try Evaluation.run(data, labelNames: labelNames, thresholds: thresholds, logitsOf: fp32Logits)
        let (int8, int8Logits) = try Evaluation.run(data, labelNames: labelNames, thresholds: thresholds, logitsOf: int8Logits)
        let decide = { (logits: [Float]) in Self.decision(logits, task: data.task, thresholds: thresholds) }
        let same = zip(fp32Logits, int8Logits).filter { decide($0) == decide($1) }.count
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

    /// The predicted labels, as `ClassificationMetrics` scores them: multi-label, those whose
    /// sigmoid reaches their threshold (default 0.5); single-label, `predictedClass` of the softmax
    /// (label 1 of a binary model at thresholds[1], when given).
    static func decision(_ logits: [Float], task: Task, thresholds: [Double]?) -> [Int] {
        if task == .multiLabel {
            let p = sigmoid([logits])[0]
            return p.indices.filter { p[$0] >= thresholds?[$0] ?? 0.5 }
        }
        return [predictedClass(softmax(logits), positiveThreshold: logits.count == 2 ? thresholds?[1] : nil)]
    }
}
