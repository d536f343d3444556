/// hidden[r] = LayerNorm(hidden[r] + delta[r] + deltaBias) · weight + bias, in place: the residual
/// add, the bias of the preceding dense layer and the normalisation in one pass over the row.
/// hidden and delta are (rows, dim); deltaBias, weight and bias are (dim). delta may be nil.
package func residualLayerNormForward(hidden: UnsafeMutablePointer<Float>, delta: UnsafePointer<Float>?,
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
    let (mean, rstd) = rowMeanRstd(h, dim: dim, eps: eps)
    for c in 0..<dim { h[c] = (h[c] - mean) * rstd * weight[c] + bias[c] }
}

/// The mean and 1/sqrt(variance + eps) of one row: one function for the inference and the
/// training forward, so the two agree to the bit.
@inline(__always)
func rowMeanRstd(_ x: UnsafePointer<Float>, dim: Int, eps: Float) -> (mean: Float, rstd: Float) {
    let mean = rowSum(x, dim) / Float(dim)
    var acc = Float8()
    var c = 0
    while c + 8 <= dim {
        let v = load8(x + c) - mean
        acc += v * v
        c += 8
    }
    var variance = acc.sum()
    while c < dim { let v = x[c] - mean; variance += v * v; c += 1 }
    variance /= Float(dim)
    return (mean, 1 / (variance + eps).squareRoot())
}

@inline(__always)
package func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Float8()
    var c = 0
    while c + 8 <= n { acc += load8(x + c); c += 8 }
    var s = acc.sum()
    while c < n { s += x[c]; c += 1 }
    return s
}

// MARK: training

/// out[r] = (inp[r] − mean) · rstd · weight + bias, keeping mean[r] and rstd[r] for the backward.
/// inp and out are (rows, dim) and may be the same buffer only if the caller keeps no copy of
/// inp (the backward needs inp); weight and bias are (dim); mean and rstd are (rows).
/// Same arithmetic as `normalizeRow` (`rowMeanRstd`), so training and inference forwards agree to the bit.
package func layerNormTrainingForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                                      weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                      mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                                      rows: Int, dim: Int, eps: Float) {
    for r in 0..<rows {
        let x = inp + r * dim, y = out + r * dim
        let (m, s) = rowMeanRstd(x, dim: dim, eps: eps)
        for c in 0..<dim { y[c] = (x[c] - m) * s * weight[c] + bias[c] }
        mean[r] = m
        rstd[r] = s
    }
}

/// Backward of `layerNormTrainingForward` (llm.c layernorm_backward), x̂ = (inp − mean)·rstd:
///   dWeight += Σ_rows dOut·x̂,  dBias += Σ_rows dOut,
///   dInp (+)= rstd · (g − mean(g) − x̂ · mean(g·x̂)),  g = dOut · weight.
/// dOut, inp, dInp are (rows, dim); weight, dWeight, dBias (dim); mean, rstd (rows).
/// dInp is overwritten unless `accumulate` (the residual stream adds several paths); it may be
/// the same buffer as dOut when overwriting. dWeight/dBias nil = frozen LayerNorm; dInp nil = no
/// gradient needed below.
package func layerNormBackward(dInp: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
                               dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
                               inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                               rows: Int, dim: Int, accumulate: Bool) {
    for r in 0..<rows {
        let x = inp + r * dim, dy = dOut + r * dim
        let m = mean[r], s = rstd[r]
        var sumG: Float = 0, sumGX: Float = 0
        for c in 0..<dim {
            let xhat = (x[c] - m) * s
            let g = dy[c] * weight[c]
            sumG += g
            sumGX += g * xhat
        }
        let meanG = sumG / Float(dim), meanGX = sumGX / Float(dim)
        if let dWeight, let dBias {
            for c in 0..<dim {
                dWeight[c] += dy[c] * ((x[c] - m) * s)
                dBias[c] += dy[c]
            }
        }
        if let dInp {
            let dx = dInp + r * dim
            for c in 0..<dim {
                let xhat = (x[c] - m) * s
                let v = (dy[c] * weight[c] - meanG - xhat * meanGX) * s
                dx[c] = accumulate ? dx[c] + v : v
            }
        }
    }
}

/// `layerNormBackward` split by rows across the pool. Row ranges write disjoint rows of dInp;
/// dWeight and dBias are summed over rows, so every thread but the first sums into a private
/// (2·dim) partial that is added at the end.
package func layerNormBackward(dInp: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
                               dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
                               inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                               rows: Int, dim: Int, accumulate: Bool, pool: ComputePool) {
    let parts = pool.threadCount
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: max(parts - 1, 1) * 2 * dim)
    partials.initialize(repeating: 0, count: max(parts - 1, 1) * 2 * dim)
    defer { partials.deallocate() }
    let hasParams = dWeight != nil && dBias != nil
    pool.parallelParts(rows, granularity: 4) { index, r in
        let mine = partials + max(index - 1, 0) * 2 * dim
        layerNormBackward(dInp: dInp.map { $0 + r.lowerBound * dim },
                          dWeight: hasParams ? (index == 0 ? dWeight : mine) : nil,
                          dBias: hasParams ? (index == 0 ? dBias : mine + dim) : nil,
                          dOut: dOut + r.lowerBound * dim, inp: inp + r.lowerBound * dim, weight: weight,
                          mean: mean + r.lowerBound, rstd: rstd + r.lowerBound, rows: r.count, dim: dim,
                          accumulate: accumulate)
    }
    if let dWeight, let dBias {
        for p in 0..<(parts - 1) {
            let w = partials + p * 2 * dim
            for c in 0..<dim { dWeight[c] += w[c]; dBias[c] += w[dim + c] }
        }
    }
}
