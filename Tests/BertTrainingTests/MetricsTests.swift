@testable import BertTraining
import XCTest

/// Metrics against hand-computed values and against numbers computed with numpy (no
/// scikit-learn) by the script in the comment of `referenceCases`.
final class MetricsTests: XCTestCase {
    func testHandComputedThreeClassCase() {
        // gold:      a a a b b c
        // predicted: a a b b c c   (argmax of one-hot-ish probabilities)
        let p: [[Double]] = [[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.3, 0.5, 0.2], [0.1, 0.7, 0.2], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]
        let m = ClassificationMetrics(probabilities: p, labels: [0, 0, 0, 1, 1, 2], labelNames: ["a", "b", "c"])
        XCTAssertEqual(m.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
        XCTAssertEqual(m.accuracy, 4.0 / 6, accuracy: 1e-12)
        // a: P 2/2, R 2/3; b: P 1/2, R 1/2; c: P 1/2, R 1/1
        XCTAssertEqual(m.perClass.map(\.precision), [1, 0.5, 0.5])
        XCTAssertEqual(m.perClass.map(\.recall)[0], 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.perClass.map(\.f1)[0], 0.8, accuracy: 1e-12)
        XCTAssertEqual(m.perClass.map(\.f1)[2], 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.perClass.map(\.support), [3, 2, 1])
        XCTAssertEqual(m.macroF1, (0.8 + 0.5 + 2.0 / 3) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.loss, -(log(0.8) + log(0.6) + log(0.3) + log(0.7) + log(0.3) + log(0.8)) / 6, accuracy: 1e-12)
        // One-vs-rest AUCs: a: positives {.8,.6,.3} vs {.1,.2,.1}: 9/9 = 1.
        // b: positives {.7,.3} vs {.1,.3,.5,.1}: .7 beats 4; .3 beats 2, ties 1 → (4 + 2.5)/8.
        // c: positive {.8} vs {.1,.1,.2,.2,.5}: 1.
        XCTAssertEqual(m.rocAUC!, (1 + 6.5 / 8 + 1) / 3, accuracy: 1e-12)
    }

    func testBinaryAUCTiesCountHalfAndUndefinedCases() {
        XCTAssertEqual(ROCAUC.binary(scores: [0.5, 0.5], positives: [true, false]), 0.5)
        XCTAssertEqual(ROCAUC.binary(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true]), 0.75)  // sklearn's doc example
        XCTAssertNil(ROCAUC.binary(scores: [0.1, 0.2], positives: [true, true]))
        let m = ClassificationMetrics(probabilities: [[0.9, 0.1, 0], [0.2, 0.8, 0]], labels: [0, 1], labelNames: ["x", "y", "z"])
        XCTAssertNil(m.rocAUC, "class z never occurs: one-vs-rest AUC is undefined, as sklearn raises")
        XCTAssertEqual(m.perClass[2].precision, 0, "zero_division=0")
    }

    struct ReferenceCase {
        var logits: [[Float]]
        var labels: [Int]
        var loss, accuracy: Double
        var precision, recall, f1: [Double]
        var confusion: [[Int]]
        var auc: Double
    }

    /// Logits rounded to one decimal, so ties in scores and in arg-max occur. The reference
    /// AUC is the trapezoidal area under sklearn's ROC curve construction (distinct thresholds),
    /// an independent method from the rank formula the code uses.
    let referenceCases: [ReferenceCase] = [
        // numpy, seed 1, n 30, classes 2
        ReferenceCase(
            logits: [[0.7, 1.6], [0.7, -2.6], [1.8, 0.9], [-1.1, 1.2], [0.7, 0.6], [0.1, 1.1], [-1.5, -0.3], [-1.0, 1.2], [0.1, -0.6], [-1.6, -0.5], [0.0, -0.6], [2.6, 2.0], [-5.4, -3.8], [-0.3, -0.8], [0.4, 0.4], [4.2, -2.2], [-0.8, 4.1], [1.3, 1.3], [-1.0, -3.3], [0.3, 0.2], [-2.5, -1.4], [-0.1, -1.9], [-0.2, 0.2], [0.1, -1.0], [1.2, 1.8], [0.6, -1.6], [1.5, -1.0], [1.8, -2.1], [1.8, -0.0], [-2.5, -0.6]],
            labels: [1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0],
            loss: 1.149113852885, accuracy: 0.466666666667,
            precision: [0.388888888889, 0.583333333333], recall: [0.583333333333, 0.388888888889], f1: [0.466666666667, 0.466666666667],
            confusion: [[7, 5], [11, 7]], auc: 0.481481481481),
        // numpy, seed 2, n 40, classes 3
        ReferenceCase(
            logits: [[0.4, -1.0, -0.8], [-4.9, 3.6, 2.3], [-0.7, 1.5, 0.6], [-1.1, 2.0, -0.6], [-0.7, -1.6, 0.9], [-0.2, 1.1, -1.2], [0.3, -1.8, 1.7], [0.4, 0.7, 0.8], [-2.0, 1.6, 4.1], [-3.3, -3.5, -3.0], [1.7, 0.3, 2.2], [1.4, 0.4, 0.6], [-0.3, 1.7, -2.3], [-0.8, 0.5, 3.6], [-1.5, -2.2, -1.1], [1.9, -0.5, 2.6], [-3.7, 2.3, 2.1], [-2.8, 0.3, 2.4], [0.2, 2.0, 4.7], [0.5, -0.6, -1.5], [1.3, -0.4, -0.4], [-0.2, 1.3, -2.1], [-3.1, -4.9, 2.4], [0.1, 3.0, -0.0], [-1.5, 1.0, -0.2], [-2.5, -1.8, 3.5], [0.7, 0.8, -0.6], [-1.4, 1.8, -0.2], [-1.5, -0.3, -1.8], [0.4, 2.3, -1.7], [2.9, -1.3, 0.3], [-1.7, -0.4, 0.1], [-0.9, -1.4, -1.4], [-1.6, -3.1, -0.5], [0.8, 1.8, 1.3], [4.9, 0.6, -0.9], [3.7, -2.1, 1.9], [-1.9, 0.7, -3.9], [1.8, -0.3, -1.9], [3.4, 1.5, 0.1]],
            labels: [0, 1, 0, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 1, 1, 2, 2, 1, 1, 0, 2, 2, 0, 1, 2, 1, 1, 0, 2, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0],
            loss: 1.539529933438, accuracy: 0.500000000000,
            precision: [0.4, 0.533333333333, 0.533333333333], recall: [0.444444444444, 0.4, 0.727272727273], f1: [0.421052631579, 0.457142857143, 0.615384615385],
            confusion: [[4, 4, 1], [6, 8, 6], [0, 3, 8]], auc: 0.620957404973),
    ]

    func testAgainstNumpyReference() {
        for (n, c) in referenceCases.enumerated() {
            let names = (0..<c.logits[0].count).map { "class\($0)" }
            let m = ClassificationMetrics(logits: c.logits, labels: c.labels, labelNames: names)
            XCTAssertEqual(m.confusion, c.confusion, "case \(n)")
            XCTAssertEqual(m.loss, c.loss, accuracy: 1e-9, "case \(n)")
            XCTAssertEqual(m.accuracy, c.accuracy, accuracy: 1e-9, "case \(n)")
            for k in names.indices {
                XCTAssertEqual(m.perClass[k].precision, c.precision[k], accuracy: 1e-9, "case \(n) class \(k)")
                XCTAssertEqual(m.perClass[k].recall, c.recall[k], accuracy: 1e-9, "case \(n) class \(k)")
                XCTAssertEqual(m.perClass[k].f1, c.f1[k], accuracy: 1e-9, "case \(n) class \(k)")
            }
            XCTAssertEqual(m.macroF1, c.f1.reduce(0, +) / Double(c.f1.count), accuracy: 1e-9)
            XCTAssertEqual(m.rocAUC ?? .nan, c.auc, accuracy: 1e-9, "case \(n)")
        }
    }

    func testEarlyStoppingWithPatience() throws {
        var loss = try EarlyStopping(metric: .loss, patience: 2)
        XCTAssertFalse(loss.higherIsBetter)
        XCTAssertEqual(loss.update(value: 0.9, epoch: 1), .improved)
        XCTAssertEqual(loss.update(value: 0.7, epoch: 2), .improved)
        XCTAssertEqual(loss.update(value: 0.8, epoch: 3), .noImprovement)
        XCTAssertEqual(loss.update(value: 0.7, epoch: 4), .stop, "equal is not better")
        XCTAssertEqual(loss.best, 0.7)
        XCTAssertEqual(loss.bestEpoch, 2)

        var f1 = try EarlyStopping(metric: .macroF1, patience: 2, minDelta: 0.01)
        XCTAssertEqual(f1.update(value: 0.50, epoch: 1), .improved)
        XCTAssertEqual(f1.update(value: 0.505, epoch: 2), .noImprovement, "within min delta")
        XCTAssertEqual(f1.update(value: 0.6, epoch: 3), .improved, "an improvement resets the count")
        XCTAssertEqual(f1.update(value: nil, epoch: 4), .noImprovement, "an undefined metric is no improvement")
        XCTAssertEqual(f1.update(value: .nan, epoch: 5), .stop)
        XCTAssertEqual(f1.bestEpoch, 3)

        var never = try EarlyStopping(metric: .accuracy)
        for epoch in 1...20 { XCTAssertNotEqual(never.update(value: 0.1, epoch: epoch), .stop) }
        XCTAssertThrowsError(try EarlyStopping(metric: .loss, patience: 0))

        // The state round-trips through JSON (trainer_state.json) and continues its count.
        var resumed = try JSONDecoder().decode(EarlyStopping.self, from: JSONEncoder().encode(loss))
        XCTAssertEqual(resumed, loss)
        XCTAssertEqual(resumed.update(value: 0.1, epoch: 5), .improved)
    }
}
