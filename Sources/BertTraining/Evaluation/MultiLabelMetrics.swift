import Foundation

/// Multi-label scores of probabilities (N, C) against label sets (N, C of 0/1), as sklearn
/// computes them with zero_division=0: micro and macro precision/recall/F1, per-label P/R/F1
/// and support, subset accuracy, Hamming loss at the decision thresholds; per-label and macro
/// ROC-AUC (over the labels that have both classes) and label-ranking average precision, which
/// do not depend on thresholds.
public struct MultiLabelMetrics: Sendable, Codable, Equatable {
    public struct Label: Sendable, Codable, Equatable {
        public var label: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
        public var rocAUC: Double?
        public var threshold: Double

        enum CodingKeys: String, CodingKey { case label, precision, recall, f1, support, rocAUC = "roc_auc", threshold }
    }

    public var examples: Int
    public var microPrecision: Double
    public var microRecall: Double
    public var microF1: Double
    public var macroPrecision: Double
    public var macroRecall: Double
    public var macroF1: Double
    public var subsetAccuracy: Double
    public var hammingLoss: Double
    public var macroROCAUC: Double?
    public var labelRankingAveragePrecision: Double
    public var perLabel: [Label]

    enum CodingKeys: String, CodingKey {
        case examples, microPrecision = "micro_precision", microRecall = "micro_recall", microF1 = "micro_f1"
        case macroPrecision = "macro_precision", macroRecall = "macro_recall", macroF1 = "macro_f1"
        case subsetAccuracy = "subset_accuracy", hammingLoss = "hamming_loss", macroROCAUC = "macro_roc_auc"
        case labelRankingAveragePrecision = "label_ranking_average_precision", perLabel = "per_label"
    }

    /// - Parameters: probabilities and truth row-major (N, C); thresholds per label (default 0.5).
    public init(probabilities: [[Double]], truth: [[Bool]], labelNames: [String], thresholds: [Double]? = nil) {
        let n = probabilities.count, c = labelNames.count
        let thresholds = thresholds ?? [Double](repeating: 0.5, count: c)
        var tp = [Int](repeating: 0, count: c), fp = tp, fn = tp
        var exact = 0, wrongCells = 0
        for i in 0..<n {
            var allRight = true
            for k in 0..<c {
                let predicted = probabilities[i][k] >= thresholds[k], actual = truth[i][k]
                if predicted && actual { tp[k] += 1 } else if predicted { fp[k] += 1 } else if actual { fn[k] += 1 }
                if predicted != actual { allRight = false; wrongCells += 1 }
            }
            if allRight { exact += 1 }
        }
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        func f1(_ p: Double, _ r: Double) -> Double { p + r == 0 ? 0 : 2 * p * r / (p + r) }
        perLabel = (0..<c).map { k in
            let p = ratio(tp[k], tp[k] + fp[k]), r = ratio(tp[k], tp[k] + fn[k])
            let auc = ROCAUC.binary(scores: probabilities.map { $0[k] }, positives: truth.map { $0[k] })
            return Label(label: labelNames[k], precision: p, recall: r, f1: f1(p, r), support: tp[k] + fn[k], rocAUC: auc,
                         threshold: thresholds[k])
        }
        examples = n
        let sums = (tp.reduce(0, +), fp.reduce(0, +), fn.reduce(0, +))
        microPrecision = ratio(sums.0, sums.0 + sums.1)
        microRecall = ratio(sums.0, sums.0 + sums.2)
        microF1 = f1(microPrecision, microRecall)
        macroPrecision = c == 0 ? 0 : perLabel.reduce(0) { $0 + $1.precision } / Double(c)
        macroRecall = c == 0 ? 0 : perLabel.reduce(0) { $0 + $1.recall } / Double(c)
        macroF1 = c == 0 ? 0 : perLabel.reduce(0) { $0 + $1.f1 } / Double(c)
        subsetAccuracy = ratio(exact, n)
        hammingLoss = ratio(wrongCells, n * c)
        let aucs = perLabel.compactMap(\.rocAUC)
        macroROCAUC = aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count)
        labelRankingAveragePrecision = Self.lrap(probabilities: probabilities, truth: truth)
    }

    /// sklearn's label_ranking_average_precision_score: per example, the mean over its true
    /// labels of (true labels ranked at or above it) / (labels ranked at or above it); an
    /// example with no true label (or all true) scores 1.
    static func lrap(probabilities: [[Double]], truth: [[Bool]]) -> Double {
        guard !probabilities.isEmpty else { return 0 }
        var total = 0.0
        for (scores, actual) in zip(probabilities, truth) {
            let relevant = actual.indices.filter { actual[$0] }
            if relevant.isEmpty || relevant.count == actual.count { total += 1; continue }
            var sum = 0.0
            for j in relevant {
                let rank = scores.indices.filter { scores[$0] >= scores[j] }.count
                let relevantRank = relevant.filter { scores[$0] >= scores[j] }.count
                sum += Double(relevantRank) / Double(rank)
            }
            total += sum / Double(relevant.count)
        }
        return total / Double(probabilities.count)
    }

    /// Per label, the threshold that maximises its F1 on these examples (candidates: the
    /// midpoints between consecutive distinct scores), or 0.5 when the label has fewer than
    /// `minimumSupport` positives — too few to tune on without overfitting.
    public static func tunedThresholds(probabilities: [[Double]], truth: [[Bool]], minimumSupport: Int = 5) -> [Double] {
        let c = probabilities.first?.count ?? 0
        return (0..<c).map { k in
            let pairs = zip(probabilities.map { $0[k] }, truth.map { $0[k] }).sorted { $0.0 > $1.0 }
            let positives = pairs.filter(\.1).count
            guard positives >= minimumSupport else { return 0.5 }
            // Sweep the threshold down through the sorted scores: everything above it is predicted positive.
            var best = (f1: -1.0, threshold: 0.5)
            var tp = 0, fp = 0
            for (i, (score, actual)) in pairs.enumerated() {
                if actual { tp += 1 } else { fp += 1 }
                if i + 1 < pairs.count, pairs[i + 1].0 == score { continue }  // ties go together
                let precision = Double(tp) / Double(tp + fp), recall = Double(tp) / Double(positives)
                let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
                let threshold = i + 1 < pairs.count ? (score + pairs[i + 1].0) / 2 : score
                if f1 > best.f1 { best = (f1, threshold) }
            }
            return min(max(best.threshold, 1e-6), 1 - 1e-6)
        }
    }
}

/// Regression scores: mean squared and absolute error, Pearson and Spearman correlation (scipy's
/// pearsonr and spearmanr: ranks with ties averaged). A constant column has no correlation: 0.
public struct RegressionMetrics: Sendable, Codable, Equatable {
    public var examples: Int
    public var mse: Double
    public var mae: Double
    public var pearson: Double
    public var spearman: Double

    public init(predictions: [Double], targets: [Double]) {
        let n = Double(predictions.count)
        examples = predictions.count
        mse = predictions.isEmpty ? 0 : zip(predictions, targets).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / n
        mae = predictions.isEmpty ? 0 : zip(predictions, targets).reduce(0) { $0 + abs($1.0 - $1.1) } / n
        pearson = Self.correlation(predictions, targets)
        spearman = Self.correlation(Self.ranks(predictions), Self.ranks(targets))
    }

    static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        guard x.count > 1 else { return 0 }
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxx == 0 || syy == 0 ? 0 : sxy / (sxx * syy).squareRoot()
    }

    /// 1-based ranks, ties sharing their mean rank.
    static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, values[order[end]] == values[order[start]] { end += 1 }
            for k in start..<end { ranks[order[k]] = Double(start + 1 + end) / 2 }
            start = end
        }
        return ranks
    }
}
