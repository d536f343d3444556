import COpenBLAS

/// out = inp · weightᵀ (no bias: the caller fuses bias into the next elementwise pass).
/// inp is (rows, inF) with row stride ldi, weight is (outF, inF) as torch.nn.Linear stores it,
/// out is (rows, outF) with row stride ldo.
@inline(__always)
package func matmulForward(
    out: UnsafeMutablePointer<Float>, ldo: Int,
    inp: UnsafePointer<Float>, ldi: Int,
    weight: UnsafePointer<Float>,
    rows: Int, inF: Int, outF: Int, accumulate: Bool = false
) {
    guard rows > 0 else { return }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                Int32(rows), Int32(outF), Int32(inF),
                1, inp, Int32(ldi), weight, Int32(inF),
                accumulate ? 1 : 0, out, Int32(ldo))
}

/// Dense row-major sgemm C = alpha·op(A)·op(B) + beta·C for the attention products.
@inline(__always)
package func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}


/// Rows below which a dense layer streams its weights once through `linearSmallM` (the active
/// `SmallMKernel`), split by
/// output columns; at and above it each thread runs a single-threaded OpenBLAS sgemm on its rows.
package let smallMRowLimit = 48

/// What follows a dense layer's product in the same parallel pass, on each thread's share of the
/// output while it is still in cache: out = activation(out + bias). Saves a pass over the output
/// and a join of the pool (two per encoder layer: the qkv bias, the intermediate bias + GELU).
package struct LinearEpilogue {
    package let bias: UnsafePointer<Float>
    package let activation: Activation
    package init(bias: UnsafePointer<Float>, activation: Activation = .identity) { (self.bias, self.activation) = (bias, activation) }

    /// Applies it to out's rows `rows` × columns `columns` (row stride ldo).
    @inline(__always)
    func apply(_ out: UnsafeMutablePointer<Float>, ldo: Int, rows: Range<Int>, columns: Range<Int>) {
        biasActivationForward(out + rows.lowerBound * ldo + columns.lowerBound, ld: ldo, bias: bias + columns.lowerBound,
                              rows: rows.count, cols: columns.count, activation: activation)
    }
}

/// A dense layer's output as a residual branch: hidden = LayerNorm(hidden + out + bias), hidden
/// (rows, outF) with row stride outF (BERT's *SelfOutput and *Output). Run by the dense layer
/// itself: when it splits by rows each thread normalises its own rows while they are in cache,
/// without another pass or join; split by columns (a few rows), on the calling thread after it.
package struct ResidualLayerNorm {
    package let hidden: UnsafeMutablePointer<Float>
    package let bias: UnsafePointer<Float>
    package let weight: UnsafePointer<Float>
    package let normBias: UnsafePointer<Float>
    package let eps: Float
    package init(hidden: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                 normBias: UnsafePointer<Float>, eps: Float) {
        (self.hidden, self.bias, self.weight, self.normBias, self.eps) = (hidden, bias, weight, normBias, eps)
    }

    /// Normalises rows `rows` with the dense output `out` (row stride ldo = dim) as the branch.
    @inline(__always)
    func apply(_ out: UnsafePointer<Float>, dim: Int, rows: Range<Int>) {
        residualLayerNormForward(hidden: hidden + rows.lowerBound * dim, delta: out + rows.lowerBound * dim, deltaBias: bias,
                                 weight: weight, bias: normBias, rows: rows.count, dim: dim, eps: eps)
    }
}

/// out (rows, outF) = inp (rows, inF) · weightᵀ, then `epilogue` if any, then `norm` if any (out
/// must then have row stride outF), split across the pool.
package func linearForward(out: UnsafeMutablePointer<Float>, ldo: Int, inp: UnsafePointer<Float>, ldi: Int,
                   weight: UnsafePointer<Float>, rows: Int, inF: Int, outF: Int, pool: ComputePool,
                   epilogue: LinearEpilogue? = nil, norm: ResidualLayerNorm? = nil) {
    precondition(norm == nil || ldo == outF, "a residual LayerNorm reads the output with row stride outF")
    if rows < smallMRowLimit {
        pool.parallelFor(outF, granularity: 16) { columns in
            linearSmallM(.active, out: out, ldo: ldo, x: inp, ldx: ldi, weight: weight, m: rows, k: inF, columns: columns)
            epilogue?.apply(out, ldo: ldo, rows: 0..<rows, columns: columns)
        }
        // A few rows: on this thread, cheaper than waking the pool for another join.
        norm?.apply(out, dim: outF, rows: 0..<rows)
    } else {
        pool.parallelFor(rows, granularity: 8) { r in
            matmulForward(out: out + r.lowerBound * ldo, ldo: ldo, inp: inp + r.lowerBound * ldi, ldi: ldi,
                          weight: weight, rows: r.count, inF: inF, outF: outF)
            epilogue?.apply(out, ldo: ldo, rows: r, columns: 0..<outF)
            norm?.apply(out, dim: outF, rows: r)
        }
    }
}

/// Backward of a dense layer y = x·Wᵀ + b (llm.c matmul_backward):
///   dInp (rows, inF) (+)= dOut (rows, outF) · W (outF, inF)
///   dWeight (outF, inF) += dOutᵀ · inp
///   dBias (outF)        += Σ_rows dOut
/// dOut has row stride ldd, inp ldi, dInp ldx. dInp is overwritten unless `accumulateInput`;
/// any of dInp, dWeight, dBias may be nil (not needed, or frozen).
/// Each thread takes a share of dInp's rows and a share of dWeight's rows (output features):
/// both shares are disjoint, so there is nothing to reduce, and every GEMM keeps a long k
/// (outF for dInp, all the batch's tokens for dWeight), where a single-threaded sgemm is fastest.
package func linearBackward(dInp: UnsafeMutablePointer<Float>?, ldx: Int, accumulateInput: Bool,
                            dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?,
                            dOut: UnsafePointer<Float>, ldd: Int, inp: UnsafePointer<Float>, ldi: Int,
                            weight: UnsafePointer<Float>, rows: Int, inF: Int, outF: Int, pool: ComputePool) {
    guard rows > 0 else { return }
    let parts = pool.threadCount
    pool.run { part in
        if let dInp {
            let r = share(rows, part: part, parts: parts, granularity: 8)
            if !r.isEmpty {
                sgemm(transA: false, transB: false, m: r.count, n: inF, k: outF, alpha: 1,
                      a: dOut + r.lowerBound * ldd, lda: ldd, b: weight, ldb: inF,
                      beta: accumulateInput ? 1 : 0, c: dInp + r.lowerBound * ldx, ldc: ldx)
            }
        }
        let o = share(outF, part: part, parts: parts, granularity: 16)
        guard !o.isEmpty else { return }
        if let dWeight {
            sgemm(transA: true, transB: false, m: o.count, n: inF, k: rows, alpha: 1,
                  a: dOut + o.lowerBound, lda: ldd, b: inp, ldb: ldi,
                  beta: 1, c: dWeight + o.lowerBound * inF, ldc: inF)
        }
        if let dBias {
            for r in 0..<rows {
                let d = dOut + r * ldd
                for c in o { dBias[c] += d[c] }
            }
        }
    }
}

/// Part `part` of `parts` contiguous shares of 0..<count, in multiples of `granularity`
/// (the last share takes the remainder); empty when there are fewer units than parts.
@inline(__always)
package func share(_ count: Int, part: Int, parts: Int, granularity: Int) -> Range<Int> {
    let units = (count + granularity - 1) / granularity
    let lo = min(count, (units * part / parts) * granularity)
    let hi = min(count, (units * (part + 1) / parts) * granularity)
    return lo..<max(lo, hi)
}
