@testable import BertTraining
import Foundation
import XCTest

/// Multi-label and regression metrics against scikit-learn and scipy on fixed numbers
/// (`precision_recall_fscore_support(zero_division=0)`, `accuracy_score`, `hamming_loss`,
/// `roc_auc_score` per label, `label_ranking_average_precision_score`, `mean_squared_error`,
/// `mean_absolute_error`, `pearsonr`, `spearmanr`; printed by a throwaway script, numbers copied here).
final class TaskMetricsTests: XCTestCase {
    static let probabilities: [[Double]] = [
        [0.63, 0.9, 0.78, 0.23], [0.3, 0.87, 0.01, 0.82], [0.8, 0.47, 0.3, 0.28], [0.25, 0.45, 0.5, 0.55],
        [1.0, 0.79, 0.62, 0.99], [0.22, 0.16, 0.61, 0.04], [0.04, 0.51, 0.47, 0.92], [0.63, 0.51, 0.5, 0.25],
        [0.01, 0.19, 0.69, 0.2], [0.37, 0.0, 0.83, 0.15], [0.27, 0.88, 0.51, 0.85], [0.64, 0.74, 0.09, 0.54],
    ]
    static let truth: [[Bool]] = [
        [0, 0, 1, 0], [1, 1, 1, 1], [0, 1, 0, 0], [0, 0, 0, 0], [0, 1, 0, 1], [0, 1, 0, 1],
        [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 1], [0, 0, 0, 1], [0, 1, 1, 0], [0, 0, 1, 0],
    ].map { $0.map { $0 == 1 } }

    func testMultiLabelMatchesScikitLearn() {
        let m = MultiLabelMetrics(probabilities: Self.probabilities, truth: Self.truth, labelNames: ["a", "b", "c", "d"])
        XCTAssertEqual(m.microPrecision, 0.2692307692307692, accuracy: 1e-12)
        XCTAssertEqual(m.microRecall, 0.3888888888888889, accuracy: 1e-12)
        XCTAssertEqual(m.microF1, 0.3181818181818182, accuracy: 1e-12)
        XCTAssertEqual(m.macroPrecision, 0.25297619047619047, accuracy: 1e-12)
        XCTAssertEqual(m.macroRecall, 0.3333333333333333, accuracy: 1e-12)
        XCTAssertEqual(m.macroF1, 0.28525641025641024, accuracy: 1e-12)
        XCTAssertEqual(m.perLabel.map(\.precision), [0, 0.42857142857142855, 0.25, 0.3333333333333333])
        XCTAssertEqual(m.perLabel.map(\.recall), [0, 0.6, 0.4, 0.3333333333333333])
        XCTAssertEqual(m.perLabel.map(\.support), [2, 5, 5, 6])
        XCTAssertEqual(m.subsetAccuracy, 0)
        XCTAssertEqual(m.hammingLoss, 0.625, accuracy: 1e-12)
        for (mine, theirs) in zip(m.perLabel.map { $0.rocAUC! }, [0.2, 0.6285714285714286, 0.2857142857142857, 0.3055555555555555]) {
            XCTAssertEqual(mine, theirs, accuracy: 1e-12)
        }
        XCTAssertEqual(m.macroROCAUC!, 0.3549603174603175, accuracy: 1e-12)
        XCTAssertEqual(m.labelRankingAveragePrecision, 0.5416666666666666, accuracy: 1e-12)
    }

    /// A tuned threshold maximises the label's F1 on the data it is tuned on (never below 0.5's),
    /// and a label with too few positives keeps 0.5.
    func testTunedThresholdsMaximiseEachLabelsF1() {
        let tuned = MultiLabelMetrics.tunedThresholds(probabilities: Self.probabilities, truth: Self.truth, minimumSupport: 3)
        XCTAssertEqual(tuned[0], 0.5, "label a has 2 positives: below the support floor")
        let atHalf = MultiLabelMetrics(probabilities: Self.probabilities, truth: Self.truth, labelNames: ["a", "b", "c", "d"])
        let atTuned = MultiLabelMetrics(probabilities: Self.probabilities, truth: Self.truth, labelNames: ["a", "b", "c", "d"], thresholds: tuned)
        for k in 1..<4 {
            XCTAssertGreaterThanOrEqual(atTuned.perLabel[k].f1, atHalf.perLabel[k].f1)
            // No threshold from a fine grid does better.
            for t in stride(from: 0.005, to: 1, by: 0.01) {
                var thresholds = tuned
                thresholds[k] = t
                let other = MultiLabelMetrics(probabilities: Self.probabilities, truth: Self.truth, labelNames: ["a", "b", "c", "d"], thresholds: thresholds)
                XCTAssertLessThanOrEqual(other.perLabel[k].f1, atTuned.perLabel[k].f1 + 1e-12, "label \(k), threshold \(t)")
            }
        }
    }

    func testRegressionMatchesScipy() {
        let x = [0.58, -1.29, 0.35, -1.69, -2.04, -0.3, -0.9, 0.16, 2.24, -0.83]
        let y = [0.27, -1.19, 0.05, -1.78, -2.14, 0.05, -0.64, -0.36, 2.2, -0.81]
        let m = RegressionMetrics(predictions: x, targets: y)
        XCTAssertEqual(m.mse, 0.06767000000000001, accuracy: 1e-12)
        XCTAssertEqual(m.mae, 0.20900000000000002, accuracy: 1e-12)
        XCTAssertEqual(m.pearson, 0.9777034269158922, accuracy: 1e-12)
        XCTAssertEqual(m.spearman, 0.9665698144513026, accuracy: 1e-12, "ties (y[2] = y[5]) share their rank")
        XCTAssertEqual(RegressionMetrics(predictions: [1, 1, 1], targets: [1, 2, 3]).pearson, 0, "a constant column has no correlation")
    }
}

/// ROC, precision–recall and reliability curves: areas as scikit-learn computes them
/// (`roc_auc_score`, `average_precision_score`) on a small case worked by hand, and the ECE.
final class EvaluationCurvesTests: XCTestCase {
    func testBinaryCurvesAndCalibration() {
        // p(class 1) = 0.9, 0.8, 0.3, 0.1 for labels 1, 0, 1, 0.
        let p: [Double] = [0.9, 0.8, 0.3, 0.1]
        let outputs = p.map { [Float(0), Float(log($0 / (1 - $0)))] }
        let data = TokenizedDataset(ids: [[1], [1], [1], [1]], typeIds: [[0], [0], [0], [0]], labels: [1, 0, 1, 0])
        let c = EvaluationCurves(outputs: outputs, data: data, labelNames: ["no", "yes"])
        XCTAssertEqual(c.roc.map(\.label), ["yes"], "binary: the positive class only")
        XCTAssertEqual(c.roc[0].area, 0.75, accuracy: 1e-12)
        XCTAssertEqual(c.precisionRecall[0].area, 0.5 * 1 + 0.5 * (2.0 / 3), accuracy: 1e-12, "average precision")
        XCTAssertEqual(c.roc[0].points.first, [0, 0])
        XCTAssertEqual(c.roc[0].points.last!, [1, 1])
        // Confidences of the predicted class: 0.9 (right), 0.8 (wrong), 0.7 (wrong: predicts 0), 0.9 (right).
        XCTAssertEqual(c.reliability.map(\.count).reduce(0, +), 4)
        let expected = 0.5 * abs(1 - 0.9) + 0.25 * abs(0 - 0.8) + 0.25 * abs(0 - 0.7)
        XCTAssertEqual(c.expectedCalibrationError!, expected, accuracy: 1e-6)
    }
}
