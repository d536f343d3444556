import BertCore

/// Forward of one LoRA adapter: u = x̃ Aᵀ, y += scale · u Bᵀ, where x̃ = x ⊙ mask (PEFT's
/// lora_dropout acts on the adapter's input only) or x when mask is nil.
/// x (rows, in) stride ldx; mask and xDropped (rows, in) dense; u (rows, r); A (r, in); B (out, r);
/// y (rows, out) with stride ldy, already offset to the adapted columns (query/key/value are
/// column blocks of the fused QKV output).
func loraForward(y: UnsafeMutablePointer<Float>, ldy: Int, u: UnsafeMutablePointer<Float>,
                 xDropped: UnsafeMutablePointer<Float>?, x: UnsafePointer<Float>, ldx: Int, mask: UnsafePointer<Float>?,
                 a: UnsafePointer<Float>, b: UnsafePointer<Float>, rows: Int, inF: Int, outF: Int, rank: Int,
                 scale: Float, pool: ComputePool) {
    var input = x, ldInput = ldx
    if let mask, let xDropped {
        pool.parallelFor(rows, granularity: 8) { r in
            for t in r { dropoutForward(out: xDropped + t * inF, inp: x + t * ldx, mask: mask + t * inF, count: inF) }
        }
        input = UnsafePointer(xDropped)
        ldInput = inF
    }
    linearForward(out: u, ldo: rank, inp: input, ldi: ldInput, weight: a, rows: rows, inF: inF, outF: rank, pool: pool)
    pool.parallelFor(rows, granularity: 8) { r in
        sgemm(transA: false, transB: true, m: r.count, n: outF, k: rank, alpha: scale, a: u + r.lowerBound * rank, lda: rank,
              b: b, ldb: rank, beta: 1, c: y + r.lowerBound * ldy, ldc: ldy)
    }
}

/// Backward of `loraForward`, dY the gradient of y's adapted columns (stride ldd):
///   dU = scale · dY B,  dB += scale · dYᵀ u,  dA += dUᵀ x̃,  dX (+)= (dU A) ⊙ mask.
/// dU (rows, r) and, with a mask, dXDropped (rows, in) are scratch. dX nil = not needed.
func loraBackward(dX: UnsafeMutablePointer<Float>?, lddx: Int, dA: UnsafeMutablePointer<Float>, dB: UnsafeMutablePointer<Float>,
                  dY: UnsafePointer<Float>, ldd: Int, u: UnsafePointer<Float>, dU: UnsafeMutablePointer<Float>,
                  dXDropped: UnsafeMutablePointer<Float>?, xDropped: UnsafePointer<Float>?, x: UnsafePointer<Float>, ldx: Int,
                  mask: UnsafePointer<Float>?, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                  rows: Int, inF: Int, outF: Int, rank: Int, scale: Float, pool: ComputePool) {
    let input = mask != nil ? xDropped! : x
    let ldInput = mask != nil ? inF : ldx
    pool.parallelFor(rows, granularity: 8) { r in
        sgemm(transA: false, transB: false, m: r.count, n: rank, k: outF, alpha: scale, a: dY + r.lowerBound * ldd, lda: ldd,
              b: b, ldb: rank, beta: 0, c: dU + r.lowerBound * rank, ldc: rank)
    }
    let parts = pool.threadCount
    pool.run { part in
        let o = share(outF, part: part, parts: parts, granularity: 8)
        if !o.isEmpty {
            sgemm(transA: true, transB: false, m: o.count, n: rank, k: rows, alpha: scale, a: dY + o.lowerBound, lda: ldd,
                  b: u, ldb: rank, beta: 1, c: dB + o.lowerBound * rank, ldc: rank)
        }
        let c = share(inF, part: part, parts: parts, granularity: 16)
        if !c.isEmpty {
            sgemm(transA: true, transB: false, m: rank, n: c.count, k: rows, alpha: 1, a: dU, lda: rank,
                  b: input + c.lowerBound, ldb: ldInput, beta: 1, c: dA + c.lowerBound, ldc: inF)
        }
    }
    guard let dX else { return }
    pool.parallelFor(rows, granularity: 8) { r in
        if let mask, let dXDropped {
            let tmp = dXDropped + r.lowerBound * inF
            sgemm(transA: false, transB: false, m: r.count, n: inF, k: rank, alpha: 1, a: dU + r.lowerBound * rank, lda: rank,
                  b: a, ldb: inF, beta: 0, c: tmp, ldc: inF)
            for t in r {
                let g = dX + t * lddx, d = dXDropped + t * inF, m = mask + t * inF
                for i in 0..<inF { g[i] += d[i] * m[i] }
            }
        } else {
            sgemm(transA: false, transB: false, m: r.count, n: inF, k: rank, alpha: 1, a: dU + r.lowerBound * rank, lda: rank,
                  b: a, ldb: inF, beta: 1, c: dX + r.lowerBound * lddx, ldc: lddx)
        }
    }
}
