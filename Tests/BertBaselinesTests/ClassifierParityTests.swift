@testable import BertBaselines
import BertTraining
import Foundation
import XCTest

/// The logistic regression against scikit-learn on every fixture case (multinomial, binary,
/// one-vs-rest, with and without balanced class weights): our objective evaluated at sklearn's
/// solution equals sklearn's value (the same function), our optimum reaches the same value to
/// 1e-4 relative, and the test texts get the same probabilities (1e-3) and labels (≥ 99 %).
final class ClassifierParityTests: XCTestCase {
    /// Our objective for one fitted model of a case, given the training rows.
    private func objective(_ c: Parity.Case, x: SparseMatrix, train: LabelledDataset, model k: Int) -> LogisticObjective {
        let weighting: ClassWeighting = c.options.class_weight == "balanced" ? .balanced : .none
        let labels: [Int] = c.isMultiLabel ? train.labelSets.map { $0.contains(k) ? 1 : 0 } : train.labels
        let classes = c.isMultiLabel ? 2 : c.labels.count
        var counts = [Int](repeating: 0, count: classes)
        for y in labels { counts[y] += 1 }
        let classWeights = weighting.weights(counts: counts)
        let targets: LogisticObjective.Targets = classes == 2 ? .binary(labels.map(Double.init)) : .classes(labels, classes: classes)
        return LogisticObjective(x: x, targets: targets, sampleWeights: weighting == .none ? nil : labels.map { classWeights[$0] },
                                 c: c.options.C)
    }

    /// sklearn's coef_ rows and intercept_ of model k as our parameters (weights (D, R), bias (R)).
    private func sklearnParameters(_ c: Parity.Case, model k: Int) -> [Double] {
        let rows = c.isMultiLabel ? [c.coef[k]] : c.coef
        let intercept = c.isMultiLabel ? [c.intercept[k]] : c.intercept
        let r = rows.count, d = rows[0].count
        var p = [Double](repeating: 0, count: (d + 1) * r)
        for j in 0..<d { for o in 0..<r { p[j * r + o] = rows[o][j] } }
        for o in 0..<r { p[d * r + o] = intercept[o] }
        return p
    }

    func testObjectiveIsSklearnsObjective() throws {
        for c in Fixtures.parity.cases {
            let train = try c.labelled(c.train)
            let (_, x) = try TextFeatures.fit(train.examples.map(\.text), options: c.baselineOptions)
            for (k, expected) in c.objective.enumerated() {
                let f = objective(c, x: x, train: train, model: k)
                var gradient = [Double](repeating: 0, count: f.parameterCount)
                let value = f.evaluate(sklearnParameters(c, model: k), gradient: &gradient)
                XCTAssertEqual(value, expected, accuracy: 1e-10 * abs(expected), "\(c.name) model \(k): F at sklearn's solution")
                // sklearn stopped at its gtol: the gradient there is small by our measure too.
                XCTAssertLessThan(LBFGS.infinityNorm(gradient), c.options.tol * 10, "\(c.name) model \(k): ∇F at sklearn's solution")
            }
        }
    }

    func testTrainingMatchesSklearn() throws {
        for c in Fixtures.parity.cases {
            let train = try c.labelled(c.train), test = try c.labelled(c.test)
            let model = try LinearBaseline.train(train, validation: test, options: c.baselineOptions)
            let report = try XCTUnwrap(model.report)

            // The loss at our optimum against sklearn's, per fitted model.
            XCTAssertEqual(report.solver.count, c.objective.count)
            var worstLoss = 0.0
            for (k, (run, expected)) in zip(report.solver, c.objective).enumerated() {
                XCTAssertFalse(run.constant)
                XCTAssertEqual(run.stop, .converged, "\(c.name): \(run.label ?? "model") did not converge")
                let relative = abs(run.objective - expected) / abs(expected)
                worstLoss = max(worstLoss, relative)
                XCTAssertLessThan(relative, 1e-4, "\(c.name): objective \(run.objective) vs sklearn \(expected)")
                XCTAssertEqual(worstDifference(run.classWeights, c.class_weights[k]).value, 0, accuracy: 1e-12, "\(c.name): class weights")
            }

            // Probabilities and labels on the test texts.
            let probabilities = model.probabilities(c.test.texts)
            let worstProbability = worstDifference(probabilities.flatMap { $0 }, c.test_proba.flatMap { $0 })
            XCTAssertLessThan(worstProbability.value, 1e-3, "\(c.name): predict_proba")
            let agreement: Double
            switch c.test_predicted {
            case .classes(let expected):
                let ours = probabilities.map { row in row.indices.max { row[$0] < row[$1] }! }
                agreement = Double(zip(ours, expected).filter { $0 == $1 }.count) / Double(expected.count)
            case .sets(let expected):
                let ours = probabilities.map { $0.map { $0 > 0.5 ? 1 : 0 } }
                agreement = Double(zip(ours.flatMap { $0 }, expected.flatMap { $0 }).filter { $0 == $1 }.count) / Double(expected.count * c.labels.count)
            }
            XCTAssertGreaterThanOrEqual(agreement, 0.99, "\(c.name): predictions agree with sklearn's")

            // The coefficients themselves (the optimum is unique: F is strictly convex).
            let ours = model.scores.coefficientRows.map(Double.init), theirs = c.coef.flatMap { $0 }
            let worstCoef = worstDifference(ours, theirs).value, largest = theirs.map(abs).max()!
            XCTAssertLessThan(worstCoef, 2e-2 * largest, "\(c.name): coef_")

            print(String(format: "%@: loss rel. Δ %.1e (iterations %@, sklearn %@), max |Δp| %.1e, agreement %.1f %%, max |Δcoef| %.1e of %.2f, trained in %.3f s",
                         c.name, worstLoss, report.solver.map { "\($0.iterations)" }.joined(separator: "/"),
                         c.n_iter.map(String.init).joined(separator: "/"), worstProbability.value, 100 * agreement, worstCoef, largest,
                         report.seconds.total))
        }
    }
}
