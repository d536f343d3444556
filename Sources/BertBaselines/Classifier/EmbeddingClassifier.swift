import BertCore
import Foundation

/// SetFit's head: scikit-learn's `LogisticRegression(C=c)` (L2, L-BFGS, multinomial; for two
/// classes the one-vector binary model) fitted on sentence embeddings, returned as the
/// `EmbeddingHead` the model then serves. The same objective and solver as the linear baseline,
/// on dense rows instead of TF-IDF ones.
public enum EmbeddingClassifier {
    public struct Fit: Sendable {
        public var head: EmbeddingHead
        public var iterations: Int
        /// How the solver ended (`LBFGS.Stop`'s raw value).
        public var stop: String
        /// The regularised objective at the solution.
        public var objective: Double
    }

    /// - Parameters:
    ///   - embeddings: N rows of width H.
    ///   - labels: N class ids in 0..<classes; every class must occur.
    public static func fit(embeddings: [[Float]], labels: [Int], classes: Int, c: Double = 1, maxIterations: Int = 1000,
                           tolerance: Double = 1e-4, threads: Int = 1) throws -> Fit {
        guard let h = embeddings.first?.count, h > 0, embeddings.count == labels.count, embeddings.allSatisfy({ $0.count == h }) else {
            throw BertError(.invalidInput, "one embedding of one width per label is needed")
        }
        guard classes >= 2, Set(labels) == Set(0..<classes) else {
            throw BertError(.invalidInput, "every one of the \(classes) classes needs at least one example")
        }
        var x = SparseMatrix(columns: h)
        for row in embeddings { x.appendRow(row.enumerated().map { (Int32($0.offset), Double($0.element)) }) }
        let fit = LogisticRegression.fitClasses(x, labels: labels, classes: classes, weighting: .none, c: c,
                                                solver: LBFGS.Options(maxIterations: maxIterations, gradientTolerance: tolerance),
                                                threads: threads) { _ in }
        // parameters: weights (H, K) feature-major, then the bias (K); K = 1 for two classes.
        let k = fit.outputs
        var weight = [Float](repeating: 0, count: classes * h), bias = [Float](repeating: 0, count: classes)
        let firstRow = classes == 2 ? 1 : 0  // binary: rows [0, w], bias [0, b]
        for out in 0..<k {
            for j in 0..<h { weight[(firstRow + out) * h + j] = Float(fit.parameters[j * k + out]) }
            bias[firstRow + out] = Float(fit.parameters[h * k + out])
        }
        return Fit(head: EmbeddingHead(weight: weight, bias: bias), iterations: fit.solver.iterations,
                   stop: fit.solver.stop.rawValue, objective: fit.solver.value)
    }
}
