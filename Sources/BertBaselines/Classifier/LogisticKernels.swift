import Foundation

// The forward and backward passes of a linear model on sparse rows, one free function per op
// and direction, in float64 as sklearn's `LinearModelLoss` computes them. Shapes:
// x is (N, D) CSR; weights are (D, K) feature-major — a feature's K class weights are adjacent,
// the layout sklearn's lbfgs sees (`coef.reshape((n_classes, -1), order="F")`) — and the bias
// is (K); logits, probabilities and their gradients are (rows, K) for the rows in `rows`.

/// logits (rows, K) = x[rows] (rows, D) · weights (D, K) + bias (K).
func linearForward(logits: UnsafeMutablePointer<Double>, x: SparseMatrix, weights: UnsafePointer<Double>,
                   bias: UnsafePointer<Double>, outputs k: Int, rows: Range<Int>) {
    x.columnIndices.withUnsafeBufferPointer { columns in
        x.values.withUnsafeBufferPointer { values in
            for (r, i) in rows.enumerated() {
                let z = logits + r * k
                for c in 0..<k { z[c] = bias[c] }
                for p in x.rowStart[i]..<x.rowStart[i + 1] {
                    let w = weights + Int(columns[p]) * k, v = values[p]
                    for c in 0..<k { z[c] += v * w[c] }
                }
            }
        }
    }
}

/// dWeights (D, K) += x[rows]ᵀ · dLogits (rows, K); dBias (K) += Σ_rows dLogits. Accumulates.
func linearBackward(dWeights: UnsafeMutablePointer<Double>, dBias: UnsafeMutablePointer<Double>, dLogits: UnsafePointer<Double>,
                    x: SparseMatrix, outputs k: Int, rows: Range<Int>) {
    x.columnIndices.withUnsafeBufferPointer { columns in
        x.values.withUnsafeBufferPointer { values in
            for (r, i) in rows.enumerated() {
                let dz = dLogits + r * k
                for c in 0..<k { dBias[c] += dz[c] }
                for p in x.rowStart[i]..<x.rowStart[i + 1] {
                    let dw = dWeights + Int(columns[p]) * k, v = values[p]
                    for c in 0..<k { dw[c] += v * dz[c] }
                }
            }
        }
    }
}

/// sklearn's `HalfMultinomialLoss` weighted by sample: returns Σ_r s_r·(logsumexp(z_r) − z_r,y_r)
/// over the rows, and writes dLogits (rows, K) = s_r·(softmax(z_r) − onehot(y_r)) · scale.
/// logits (rows, K); labels and sampleWeights are indexed by the rows' own indices.
func softmaxCrossEntropyForwardBackward(dLogits: UnsafeMutablePointer<Double>, logits: UnsafePointer<Double>, labels: [Int],
                                        sampleWeights: [Double], scale: Double, classes k: Int, rows: Range<Int>) -> Double {
    var total = 0.0
    for (r, i) in rows.enumerated() {
        let z = logits + r * k, dz = dLogits + r * k
        var m = -Double.infinity
        for c in 0..<k { m = max(m, z[c]) }
        var sum = 0.0
        for c in 0..<k { dz[c] = Foundation.exp(z[c] - m); sum += dz[c] }
        let logSumExp = m + Foundation.log(sum)
        let s = sampleWeights[i]
        total += s * (logSumExp - z[labels[i]])
        for c in 0..<k { dz[c] = s * scale * (dz[c] / sum) }
        dz[labels[i]] -= s * scale
    }
    return total
}

/// sklearn's `HalfBinomialLoss` (the logistic loss of one logit z, y ∈ {0, 1}) weighted by
/// sample: returns Σ_r s_r·(log(1 + eᶻ) − y·z), and writes dLogits (rows, 1) = s_r·(σ(z) − y) · scale.
func sigmoidCrossEntropyForwardBackward(dLogits: UnsafeMutablePointer<Double>, logits: UnsafePointer<Double>, targets: [Double],
                                        sampleWeights: [Double], scale: Double, rows: Range<Int>) -> Double {
    var total = 0.0
    for (r, i) in rows.enumerated() {
        let z = logits[r], y = targets[i], s = sampleWeights[i]
        total += s * (softplus(z) - y * z)
        dLogits[r] = s * scale * (sigmoid(z) - y)
    }
    return total
}

/// log(1 + eᶻ) without overflow or loss of precision at either end.
func softplus(_ z: Double) -> Double {
    z > 0 ? z + Foundation.log1p(Foundation.exp(-z)) : Foundation.log1p(Foundation.exp(z))
}

/// 1 / (1 + e⁻ᶻ), stable for large |z|.
func sigmoid(_ z: Double) -> Double {
    z >= 0 ? 1 / (1 + Foundation.exp(-z)) : Foundation.exp(z) / (1 + Foundation.exp(z))
}
