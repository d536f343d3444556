import Foundation

/// The fits of sklearn's `LogisticRegression(penalty="l2", C, solver="lbfgs",
/// fit_intercept=True, class_weight)` this target uses, on TF-IDF rows. Each returns the fitted
/// parameters (weights (D, K) feature-major, then the bias (K)) and how the solver ended.
enum LogisticRegression {
    struct Fit {
        var parameters: [Double]
        var outputs: Int
        var solver: LBFGS.Result
        var classWeights: [Double]
    }

    /// Single-label data: multinomial over K ≥ 3 classes, or for K = 2 the binary model sklearn
    /// fits (one vector, class 1 positive; see `LogisticObjective`). Every class must occur.
    static func fitClasses(_ x: SparseMatrix, labels: [Int], classes: Int, weighting: ClassWeighting, c: Double,
                           solver: LBFGS.Options, threads: Int, progress: (LBFGS.Progress) throws -> Void) rethrows -> Fit {
        var counts = [Int](repeating: 0, count: classes)
        for y in labels { counts[y] += 1 }
        let classWeights = weighting.weights(counts: counts)
        let sampleWeights: [Double]? = weighting == .none ? nil : labels.map { classWeights[$0] }
        let targets: LogisticObjective.Targets = classes == 2
            ? .binary(labels.map { $0 == 1 ? 1 : 0 })
            : .classes(labels, classes: classes)
        return try fit(LogisticObjective(x: x, targets: targets, sampleWeights: sampleWeights, c: c, threads: threads),
                   classWeights: classWeights, solver: solver, progress: progress)
    }

    /// One label of multi-label data, as `OneVsRestClassifier(LogisticRegression(…))` fits it: a
    /// binary model of "has the label" against the rest (class weights, if balanced, are those
    /// of that binary problem). Both outcomes must occur (`OneVsRestClassifier` uses a constant
    /// predictor otherwise; see `LinearBaseline`).
    static func fitBinary(_ x: SparseMatrix, positives: [Bool], weighting: ClassWeighting, c: Double,
                          solver: LBFGS.Options, threads: Int, progress: (LBFGS.Progress) throws -> Void) rethrows -> Fit {
        try fitClasses(x, labels: positives.map { $0 ? 1 : 0 }, classes: 2, weighting: weighting, c: c,
                   solver: solver, threads: threads, progress: progress)
    }

    private static func fit(_ objective: LogisticObjective, classWeights: [Double], solver: LBFGS.Options,
                            progress: (LBFGS.Progress) throws -> Void) rethrows -> Fit {
        // sklearn starts from zero weights and zero intercepts.
        let start = [Double](repeating: 0, count: objective.parameterCount)
        let result = try LBFGS.minimize(start, options: solver, objective: objective.evaluate, progress: progress)
        return Fit(parameters: result.x, outputs: objective.outputs, solver: result, classWeights: classWeights)
    }
}
