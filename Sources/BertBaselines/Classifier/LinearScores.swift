import Foundation

/// The fitted classifier as it is served and saved: float32 weights (D, R) feature-major and a
/// bias (R), with R the rows of sklearn's `coef_`, and how their scores become per-label logits.
struct LinearScores: Sendable, Equatable {
    enum Scoring: String, Sendable, Codable {
        /// K ≥ 3 classes, one row each; the logits are the K scores (softmax for probabilities).
        case softmax
        /// Two classes: sklearn's single row z = w·x + b (decision_function), p(class 1) = σ(z).
        /// The logits are [0, z]: their softmax is exactly [1 − σ(z), σ(z)], sklearn's
        /// predict_proba, and the arg-max is sklearn's predict (z > 0 → class 1).
        case binaryLogistic = "binary_logistic"
        /// Multi-label: one binary model per label (OneVsRestClassifier); the logits are the R
        /// scores, each label's probability its sigmoid.
        case oneVsRest = "one_vs_rest"
    }

    let scoring: Scoring
    let features: Int
    /// (D, R) feature-major.
    let weights: [Float]
    /// (R)
    let bias: [Float]

    var rows: Int { bias.count }
    /// Logits per text: 2 for a binary model, else R.
    var outputs: Int { scoring == .binaryLogistic ? 2 : rows }

    init(scoring: Scoring, features: Int, weights: [Float], bias: [Float]) {
        precondition(weights.count == features * bias.count, "weights (\(weights.count)) are not \(features) × \(bias.count)")
        self.scoring = scoring
        self.features = features
        self.weights = weights
        self.bias = bias
    }

    /// The logits of each row of x (N, D): scores accumulated in float64 from the float32
    /// weights, then rounded once.
    func logits(_ x: SparseMatrix) -> [[Float]] {
        let r = rows
        var scores = [Double](repeating: 0, count: r)
        return (0..<x.rows).map { i in
            for c in 0..<r { scores[c] = Double(bias[c]) }
            let (columns, values) = x.row(i)
            for (j, v) in zip(columns, values) {
                let base = Int(j) * r
                for c in 0..<r { scores[c] += v * Double(weights[base + c]) }
            }
            return scoring == .binaryLogistic ? [0, Float(scores[0])] : scores.map { Float($0) }
        }
    }

    /// sklearn's `coef_` layout (R, D), class-major, for the weights file.
    var coefficientRows: [Float] {
        var out = [Float](repeating: 0, count: weights.count)
        let r = rows
        for j in 0..<features { for c in 0..<r { out[c * features + j] = weights[j * r + c] } }
        return out
    }

    /// From `coef_` (R, D) and `intercept_` (R).
    init(scoring: Scoring, coefficientRows: [Float], intercept: [Float]) {
        let r = intercept.count, d = r == 0 ? 0 : coefficientRows.count / r
        var weights = [Float](repeating: 0, count: coefficientRows.count)
        for c in 0..<r { for j in 0..<d { weights[j * r + c] = coefficientRows[c * d + j] } }
        self.init(scoring: scoring, features: d, weights: weights, bias: intercept)
    }
}
