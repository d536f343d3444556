import COpenBLAS

/// out = inp · weightᵀ (no bias: the caller fuses bias into the next elementwise pass).
/// inp is (rows, inF) with row stride ldi, weight is (outF, inF) as torch.nn.Linear stores it,
/// out is (rows, outF) with row stride ldo.
@inline(__always)
func matmulForward(
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
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}


/// Rows below which a dense layer streams its weights once through `linearSmallM`, split by
/// output columns; at and above it each thread runs a single-threaded OpenBLAS sgemm on its rows.
let smallMRowLimit = 48

/// out (rows, outF) = inp (rows, inF) · weightᵀ, split across the pool.
func linearForward(out: UnsafeMutablePointer<Float>, ldo: Int, inp: UnsafePointer<Float>, ldi: Int,
                   weight: UnsafePointer<Float>, rows: Int, inF: Int, outF: Int, pool: ComputePool) {
    if rows < smallMRowLimit {
        pool.parallelFor(outF, granularity: 16) { columns in
            linearSmallM(out: out, ldo: ldo, x: inp, ldx: ldi, weight: weight, m: rows, k: inF, columns: columns)
        }
    } else {
        pool.parallelFor(rows, granularity: 8) { r in
            matmulForward(out: out + r.lowerBound * ldo, ldo: ldo, inp: inp + r.lowerBound * ldi, ldi: ldi,
                          weight: weight, rows: r.count, inF: inF, outF: outF)
        }
    }
}
