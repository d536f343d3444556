import Foundation

/// The objective sklearn's `LogisticRegression(penalty="l2", C=C, fit_intercept=True,
/// solver="lbfgs")` minimizes, and its gradient (sklearn/linear_model/_logistic.py
/// `_logistic_regression_path` with `LinearModelLoss.loss_gradient`, sklearn ≥ 1.1):
///
///     F(W, b) = (1/S) Σᵢ sᵢ·ℓ(xᵢ W + b, yᵢ) + (1 / (2·C·S))·‖W‖²,   S = Σᵢ sᵢ
///
/// sᵢ is the sample weight (1, or the class weight of yᵢ), the intercept b is not penalized, and
/// ℓ is the multinomial cross-entropy (K ≥ 3 classes) or, for two classes, the logistic loss of
/// one logit — sklearn fits a single coefficient vector for binary problems, not two softmax
/// rows. This is sklearn's "C·Σ loss + ½‖W‖²" divided by C·S, so its minimizer is the same and
/// its value is what sklearn's lbfgs sees (and what `gtol` is measured on).
///
/// Parameters are one array: weights (D, K) feature-major, then the bias (K).
final class LogisticObjective {
    enum Targets {
        /// Class ids in 0..<classes: the multinomial loss, K = classes.
        case classes([Int], classes: Int)
        /// 0 or 1 per row: the binomial loss, K = 1.
        case binary([Double])
    }

    let x: SparseMatrix
    let targets: Targets
    let sampleWeights: [Double]
    let c: Double
    let outputs: Int
    let sampleWeightSum: Double
    /// 1 / (C·S), sklearn's `l2_reg_strength`.
    let l2: Double
    private let parts: [Range<Int>]
    /// Scratch owned by this objective, allocated once: per part, its logits and their gradient
    /// (rows, K); per part after the first, its own parameter gradient, summed afterwards.
    private let logits: [UnsafeMutablePointer<Double>]
    private let dLogits: [UnsafeMutablePointer<Double>]
    private let partGradients: [UnsafeMutablePointer<Double>]

    var features: Int { x.columns }
    var parameterCount: Int { (x.columns + 1) * outputs }

    init(x: SparseMatrix, targets: Targets, sampleWeights: [Double]? = nil, c: Double, threads: Int = 1) {
        self.x = x
        self.targets = targets
        let n = x.rows
        self.sampleWeights = sampleWeights ?? [Double](repeating: 1, count: n)
        self.c = c
        switch targets {
        case .classes(_, let k): outputs = k
        case .binary: outputs = 1
        }
        // sklearn: sw_sum = n_samples without weights, else the sum of the (class-)weights.
        sampleWeightSum = sampleWeights == nil ? Double(n) : self.sampleWeights.reduce(0, +)
        l2 = 1 / (c * sampleWeightSum)
        let count = max(1, min(threads, n / 512))
        parts = (0..<count).map { p in (n * p / count)..<(n * (p + 1) / count) }
        let k = outputs, size = (x.columns + 1) * outputs
        logits = parts.map { .allocate(capacity: max($0.count * k, 1)) }
        dLogits = parts.map { .allocate(capacity: max($0.count * k, 1)) }
        partGradients = (1..<count).map { _ in .allocate(capacity: size) }
    }

    deinit {
        for p in logits + dLogits + partGradients { p.deallocate() }
    }

    /// F at `parameters`, and ∇F written to `gradient` (same layout).
    func evaluate(_ parameters: [Double], gradient: inout [Double]) -> Double {
        let d = features, k = outputs
        precondition(parameters.count == parameterCount && gradient.count == parameterCount, "\(parameterCount) parameters expected")
        for i in gradient.indices { gradient[i] = 0 }
        var partLoss = [Double](repeating: 0, count: parts.count)
        let scale = 1 / sampleWeightSum
        parameters.withUnsafeBufferPointer { params in
            let weights = params.baseAddress!, bias = params.baseAddress! + d * k
            gradient.withUnsafeMutableBufferPointer { total in
                let grads = [total.baseAddress!] + partGradients
                let (z, dz) = (logits, dLogits)
                partLoss.withUnsafeMutableBufferPointer { losses in
                    DispatchQueue.concurrentPerform(iterations: parts.count) { p in
                        let rows = parts[p]
                        guard !rows.isEmpty else { return }
                        if p > 0 { grads[p].initialize(repeating: 0, count: (d + 1) * k) }
                        linearForward(logits: z[p], x: x, weights: weights, bias: bias, outputs: k, rows: rows)
                        switch targets {
                        case .classes(let labels, _):
                            losses[p] = softmaxCrossEntropyForwardBackward(dLogits: dz[p], logits: z[p], labels: labels,
                                                                           sampleWeights: sampleWeights, scale: scale, classes: k, rows: rows)
                        case .binary(let y):
                            losses[p] = sigmoidCrossEntropyForwardBackward(dLogits: dz[p], logits: z[p], targets: y,
                                                                           sampleWeights: sampleWeights, scale: scale, rows: rows)
                        }
                        linearBackward(dWeights: grads[p], dBias: grads[p] + d * k, dLogits: dz[p], x: x, outputs: k, rows: rows)
                    }
                }
                for p in 1..<parts.count where !parts[p].isEmpty {
                    for i in 0..<total.count { total[i] += grads[p][i] }
                }
            }
        }
        // The L2 penalty on the weights only, and its gradient.
        var squares = 0.0
        for i in 0..<(d * k) {
            squares += parameters[i] * parameters[i]
            gradient[i] += l2 * parameters[i]
        }
        return partLoss.reduce(0, +) * scale + 0.5 * l2 * squares
    }
}
