import Foundation

/// Precision, recall and F1 of one class (one-vs-rest), and how many gold examples it has.
public struct ClassMetrics: Sendable, Codable, Equatable {
    public var label: String
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var support: Int
}

/// The metrics of a classifier on labelled data, as scikit-learn defines them
/// (precision_recall_fscore_support with zero_division=0, confusion_matrix, roc_auc_score).
public struct ClassificationMetrics: Sendable, Codable, Equatable {
    public var examples: Int
    /// Mean cross-entropy −log p(gold).
    public var loss: Double
    public var accuracy: Double
    public var macroPrecision: Double
    public var macroRecall: Double
    public var macroF1: Double
    public var perClass: [ClassMetrics]
    /// confusion[gold][predicted], in label-id order (sklearn's layout: rows are true labels).
    public var confusion: [[Int]]
    /// Binary: AUC of p(class 1). More classes: the macro mean of one-vs-rest AUCs. nil when some
    /// class has no positive or no negative example, where AUC is undefined (sklearn raises).
    public var rocAUC: Double?
    /// A multi-label model's metrics (then accuracy is the subset accuracy, the macro scores and
    /// per_class are per label, the loss is binary cross-entropy, and there is no confusion
    /// matrix), at its decision thresholds.
    public var multiLabel: MultiLabelMetrics?
    /// A regression model's metrics (then the loss is the mean squared error and the
    /// classification fields are 0 or empty).
    public var regression: RegressionMetrics?

    enum CodingKeys: String, CodingKey {
        case examples, loss, accuracy, confusion
        case macroPrecision = "macro_precision", macroRecall = "macro_recall", macroF1 = "macro_f1"
        case perClass = "per_class", rocAUC = "roc_auc", multiLabel = "multi_label", regression
    }

    /// The metrics of any task from a model's outputs (N, C) on a tokenized dataset: softmax for
    /// single-label data (a binary model with `thresholds` predicts label 1 when its probability
    /// is at least thresholds[1]), a sigmoid per label (at `thresholds`, default 0.5) for
    /// multi-label, the outputs themselves for regression.
    public init(outputs: [[Float]], data: TokenizedDataset, labelNames: [String], thresholds: [Double]? = nil) {
        switch data.task {
        case .singleLabel:
            self.init(probabilities: outputs.map(softmax), labels: data.labels, labelNames: labelNames,
                      positiveThreshold: labelNames.count == 2 ? thresholds?[1] : nil)
        case .multiLabel:
            let probabilities = sigmoid(outputs)
            let truth = data.labelSetTruth
            let m = MultiLabelMetrics(probabilities: probabilities, truth: truth, labelNames: labelNames, thresholds: thresholds)
            var bce = 0.0
            for (row, actual) in zip(outputs, truth) {
                for (z, y) in zip(row, actual) { bce += softplus(Double(z)) - (y ? Double(z) : 0) }
            }
            self.init(examples: m.examples, loss: bce / Double(max(m.examples * labelNames.count, 1)), accuracy: m.subsetAccuracy,
                      macroPrecision: m.macroPrecision, macroRecall: m.macroRecall, macroF1: m.macroF1,
                      perClass: m.perLabel.map { ClassMetrics(label: $0.label, precision: $0.precision, recall: $0.recall, f1: $0.f1, support: $0.support) },
                      confusion: [], rocAUC: m.macroROCAUC)
            multiLabel = m
        case .regression:
            let r = RegressionMetrics(predictions: outputs.map { Double($0[0]) }, targets: data.values.map(Double.init))
            self.init(examples: r.examples, loss: r.mse, accuracy: 0, macroPrecision: 0, macroRecall: 0, macroF1: 0, perClass: [],
                      confusion: [], rocAUC: nil)
            regression = r
        }
    }

    init(examples: Int, loss: Double, accuracy: Double, macroPrecision: Double, macroRecall: Double, macroF1: Double,
         perClass: [ClassMetrics], confusion: [[Int]], rocAUC: Double?) {
        (self.examples, self.loss, self.accuracy) = (examples, loss, accuracy)
        (self.macroPrecision, self.macroRecall, self.macroF1) = (macroPrecision, macroRecall, macroF1)
        (self.perClass, self.confusion, self.rocAUC) = (perClass, confusion, rocAUC)
    }

    /// From logits (B, C): probabilities are their softmax, computed in Double.
    public init(logits: [[Float]], labels gold: [Int], labelNames: [String]) {
        self.init(probabilities: logits.map(softmax), labels: gold, labelNames: labelNames)
    }

    /// From probabilities (B, C) that sum to one per row. The prediction is the arg-max (the first
    /// class on a tie, as numpy's argmax), or for two classes with `positiveThreshold`, class 1
    /// when its probability is at least that.
    public init(probabilities: [[Double]], labels gold: [Int], labelNames: [String], positiveThreshold: Double? = nil) {
        let classes = labelNames.count
        precondition(probabilities.count == gold.count, "\(probabilities.count) predictions for \(gold.count) labels")
        precondition(probabilities.allSatisfy { $0.count == classes }, "every prediction needs \(classes) scores")
        precondition(gold.allSatisfy { (0..<classes).contains($0) }, "labels must be in 0..<\(classes)")
        let n = gold.count
        examples = n
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var totalLoss = 0.0
        for (row, y) in zip(probabilities, gold) {
            confusion[y][predictedClass(row, positiveThreshold: positiveThreshold)] += 1
            // Clipped as sklearn's log_loss clips, so a confident mistake costs a finite amount.
            totalLoss -= Foundation.log(min(max(row[y], 1e-15), 1))
        }
        self.confusion = confusion
        loss = n == 0 ? 0 : totalLoss / Double(n)
        accuracy = n == 0 ? 0 : Double((0..<classes).reduce(0) { $0 + confusion[$1][$1] }) / Double(n)
        perClass = (0..<classes).map { c in
            let truePositives = Double(confusion[c][c])
            let predicted = Double((0..<classes).reduce(0) { $0 + confusion[$1][c] })
            let actual = confusion[c].reduce(0, +)
            let precision = predicted == 0 ? 0 : truePositives / predicted
            let recall = actual == 0 ? 0 : truePositives / Double(actual)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return ClassMetrics(label: labelNames[c], precision: precision, recall: recall, f1: f1, support: actual)
        }
        let count = Double(max(classes, 1))
        macroPrecision = perClass.reduce(0) { $0 + $1.precision } / count
        macroRecall = perClass.reduce(0) { $0 + $1.recall } / count
        macroF1 = perClass.reduce(0) { $0 + $1.f1 } / count
        rocAUC = ROCAUC.score(probabilities: probabilities, labels: gold, classes: classes)
    }

    /// One line for people: the scores that matter for the task.
    public var summary: String {
        if let r = regression {
            return String(format: "loss %.4f  mse %.4f  mae %.4f  pearson %.4f  spearman %.4f", loss, r.mse, r.mae, r.pearson, r.spearman)
        }
        let auc = rocAUC.map { String(format: "  roc_auc %.4f", $0) } ?? ""
        if let m = multiLabel {
            return String(format: "loss %.4f  micro_f1 %.4f  macro_f1 %.4f  subset_accuracy %.4f%@", loss, m.microF1, m.macroF1, m.subsetAccuracy, auc)
        }
        return String(format: "loss %.4f  accuracy %.4f  macro_f1 %.4f%@", loss, accuracy, macroF1, auc)
    }

    /// The value of one metric (nil: ROC-AUC where it is undefined).
    public func value(of metric: Metric) -> Double? {
        switch metric {
        case .loss: return loss
        case .accuracy: return accuracy
        case .macroPrecision: return macroPrecision
        case .macroRecall: return macroRecall
        case .macroF1: return macroF1
        case .rocAUC: return rocAUC
        case .microF1: return multiLabel?.microF1
        case .pearson: return regression?.pearson
        case .spearman: return regression?.spearman
        }
    }
}

/// A metric to select checkpoints and stop early on.
public enum Metric: String, Sendable, Codable, CaseIterable {
    case loss, accuracy
    case macroPrecision = "macro_precision", macroRecall = "macro_recall", macroF1 = "macro_f1"
    case rocAUC = "roc_auc"
    /// Multi-label only.
    case microF1 = "micro_f1"
    /// Regression only.
    case pearson, spearman

    /// Loss improves downwards, every other metric upwards.
    public var higherIsBetter: Bool { self != .loss }
}

/// The class a single-label model predicts from one row of probabilities: the arg-max (the first
/// class on a tie, as numpy's argmax), or for two classes with `positiveThreshold`, class 1 when
/// its probability is at least that.
func predictedClass(_ row: [Double], positiveThreshold: Double?) -> Int {
    if let t = positiveThreshold, row.count == 2 { return row[1] >= t ? 1 : 0 }
    var best = 0
    for c in 1..<row.count where row[c] > row[best] { best = c }
    return best
}

/// A sigmoid per output, in Double: a multi-label model's probabilities (N, C).
func sigmoid(_ outputs: [[Float]]) -> [[Double]] {
    outputs.map { $0.map { 1 / (1 + Foundation.exp(-Double($0))) } }
}

/// Softmax of one row of logits, in Double (max subtracted for stability).
func softmax(_ logits: [Float]) -> [Double] {
    let m = Double(logits.max() ?? 0)
    let e = logits.map { Foundation.exp(Double($0) - m) }
    let total = e.reduce(0, +)
    return e.map { $0 / total }
}
