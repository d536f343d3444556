/// hidden[r] = LayerNorm(hidden[r] + delta[r] + deltaBias) · weight + bias, in place: the residual
/// add, the bias of the preceding dense layer and the normalisation in one pass over the row.
/// hidden and delta are (rows, dim); deltaBias, weight and bias are (dim). delta may be nil.
func residualLayerNormForward(hidden: UnsafeMutablePointer<Float>, delta: UnsafePointer<Float>?,
                              deltaBias: UnsafePointer<Float>?, weight: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float) {
    for r in 0..<rows {
        let h = hidden + r * dim
        if let delta {
            let d = delta + r * dim
            if let deltaBias {
                for c in 0..<dim { h[c] = h[c] + (d[c] + deltaBias[c]) }
            } else {
                for c in 0..<dim { h[c] += d[c] }
            }
        }
        normalizeRow(h, weight: weight, bias: bias, dim: dim, eps: eps)
    }
}

/// One row: (x − mean) / sqrt(var + eps) · weight + bias, variance biased as torch computes it.
@inline(__always)
func normalizeRow(_ h: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                  dim: Int, eps: Float) {
    let mean = rowSum(h, dim) / Float(dim)
    var acc = Float8()
    var c = 0
    while c + 8 <= dim {
        let v = load8(h + c) - mean
        acc += v * v
        c += 8
    }
    var variance = acc.sum()
    while c < dim { let v = h[c] - mean; variance += v * v; c += 1 }
    variance /= Float(dim)
    let rstd = 1 / (variance + eps).squareRoot()
    for c in 0..<dim { h[c] = (h[c] - mean) * rstd * weight[c] + bias[c] }
}

@inline(__always)
func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Float8()
    var c = 0
    while c + 8 <= n { acc += load8(x + c); c += 8 }
    var s = acc.sum()
    while c < n { s += x[c]; c += 1 }
    return s
}
