import Foundation

/// The curves a person reads beside the numbers, from a model's outputs on the validation set:
/// ROC and precision–recall per class (binary: the positive class; more classes: one-vs-rest;
/// multi-label: per label), a reliability diagram with the expected calibration error, and for
/// regression predicted against true values.
public struct EvaluationCurves: Sendable, Codable, Equatable {
    public struct Curve: Sendable, Codable, Equatable {
        public var label: String
        /// (x, y): ROC (false positive rate, true positive rate); PR (recall, precision).
        public var points: [[Double]]
        /// ROC: the area under the curve; PR: average precision (sklearn's step-wise sum).
        public var area: Double
    }

    public struct Bin: Sendable, Codable, Equatable {
        public var confidence: Double
        public var accuracy: Double
        public var count: Int
    }

    public var roc: [Curve] = []
    public var precisionRecall: [Curve] = []
    /// Ten equal-width confidence bins: the mean predicted probability and the observed frequency.
    public var reliability: [Bin] = []
    /// Σ_bins (count/N)·|accuracy − confidence|.
    public var expectedCalibrationError: Double?
    /// Regression: (predicted, true) pairs, at most 500 (evenly subsampled).
    public var scatter: [[Double]] = []

    enum CodingKeys: String, CodingKey {
        case roc, precisionRecall = "precision_recall", reliability, expectedCalibrationError = "expected_calibration_error", scatter
    }

    /// From outputs (N, C) on a tokenized dataset, as `ClassificationMetrics(outputs:data:…)` reads them.
    public init(outputs: [[Float]], data: TokenizedDataset, labelNames: [String]) {
        switch data.task {
        case .regression:
            let n = outputs.count
            let stride = max(1, (n + 499) / 500)
            scatter = Swift.stride(from: 0, to: n, by: stride).map { [Double(outputs[$0][0]), Double(data.values[$0])] }
        case .singleLabel:
            let probabilities = outputs.map(softmax)
            let classes = labelNames.count
            let shown = classes == 2 ? [1] : Array(0..<classes)
            for c in shown {
                let scores = probabilities.map { $0[c] }, positives = data.labels.map { $0 == c }
                add(labelNames[c], scores: scores, positives: positives)
            }
            // Confidence of the predicted class against whether it was right.
            let predictions = probabilities.map { row in row.indices.max { row[$0] < row[$1] }! }
            calibrate(confidences: zip(probabilities, predictions).map { $0[$1] }, correct: zip(predictions, data.labels).map { $0 == $1 })
        case .multiLabel:
            let probabilities = sigmoid(outputs)
            let truth = data.labelSetTruth
            for c in labelNames.indices {
                add(labelNames[c], scores: probabilities.map { $0[c] }, positives: truth.map { $0[c] })
            }
            // Every (text, label) probability against whether the label is there.
            calibrate(confidences: probabilities.flatMap { $0 },
                      correct: truth.flatMap { $0 })
        }
    }

    private mutating func add(_ label: String, scores: [Double], positives: [Bool]) {
        let total = positives.filter { $0 }.count, negatives = positives.count - total
        guard total > 0, negatives > 0 else { return }  // undefined without both classes
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0, fp = 0
        var rocPoints: [[Double]] = [[0, 0]], prPoints: [[Double]] = []
        var averagePrecision = 0.0, lastRecall = 0.0
        for (k, i) in order.enumerated() {
            if positives[i] { tp += 1 } else { fp += 1 }
            if k + 1 < order.count, scores[order[k + 1]] == scores[i] { continue }  // ties move together
            let recall = Double(tp) / Double(total), precision = Double(tp) / Double(tp + fp)
            rocPoints.append([Double(fp) / Double(negatives), recall])
            prPoints.append([recall, precision])
            averagePrecision += (recall - lastRecall) * precision
            lastRecall = recall
        }
        let auc = ROCAUC.binary(scores: scores, positives: positives) ?? 0
        roc.append(Curve(label: label, points: Self.thinned(rocPoints), area: auc))
        precisionRecall.append(Curve(label: label, points: Self.thinned(prPoints), area: averagePrecision))
    }

    private mutating func calibrate(confidences: [Double], correct: [Bool]) {
        guard !confidences.isEmpty else { return }
        var sums = [(confidence: Double, hits: Int, count: Int)](repeating: (0, 0, 0), count: 10)
        for (p, right) in zip(confidences, correct) {
            let b = min(9, max(0, Int(p * 10)))
            sums[b].confidence += p
            sums[b].count += 1
            if right { sums[b].hits += 1 }
        }
        reliability = sums.filter { $0.count > 0 }.map {
            Bin(confidence: $0.confidence / Double($0.count), accuracy: Double($0.hits) / Double($0.count), count: $0.count)
        }
        let n = Double(confidences.count)
        expectedCalibrationError = reliability.reduce(0) { $0 + Double($1.count) / n * abs($1.accuracy - $1.confidence) }
    }

    /// At most 200 points of a curve, keeping the first and the last.
    private static func thinned(_ points: [[Double]]) -> [[Double]] {
        guard points.count > 200 else { return points }
        let step = Double(points.count - 1) / 199
        return (0..<200).map { points[Int((Double($0) * step).rounded())] }
    }
}
