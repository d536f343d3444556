import CQuantizedKernels

/// Activations quantized per row (token): q (rows, kp) int8 with row stride ldq (kp = inF
/// rounded up to 4, zeros past inF), scales (rows) = max|x[r, :]| / 127.
package func quantizeRowsForward(q: UnsafeMutablePointer<Int8>, ldq: Int, scales: UnsafeMutablePointer<Float>,
                                 inp: UnsafePointer<Float>, ldi: Int, rows: Int, inF: Int,
                                 kernel: QuantizedKernel = QuantizedKernel.active) {
    guard rows > 0 else { return }
    bq_quantize_rows(kernel.c, inp, ldi, Int32(rows), Int32(inF), q, ldq, scales)
}

/// out (rows, outF) = dq(q(inp) (rows, inF) · Wqᵀ) with row stride ldo, then `epilogue` and
/// `norm` if any: the int8 counterpart of `linearForward`. inp has row stride ldi. scratch holds
/// the quantized rows (rows × kp bytes) and rowScales (rows) — the workspace's.
/// Split as `linearForward`: few rows by output columns (every thread streams its share of the
/// weights once for all rows); otherwise by rows, each thread quantizing the rows it multiplies.
/// `columns` (default all; its start a multiple of 16, the packed block) limits the output
/// columns computed and written, as the keys and values of `TransformerModel`'s last layer.
package func quantizedLinearForward(out: UnsafeMutablePointer<Float>, ldo: Int, inp: UnsafePointer<Float>, ldi: Int,
                                    weight: QuantizedLinear, rows: Int,
                                    scratch: UnsafeMutablePointer<Int8>, rowScales: UnsafeMutablePointer<Float>,
                                    pool: ComputePool, kernel: QuantizedKernel = QuantizedKernel.active,
                                    epilogue: LinearEpilogue? = nil, norm: ResidualLayerNorm? = nil,
                                    columns: Range<Int>? = nil) {
    guard rows > 0 else { return }
    let (n, k, kp) = (weight.outFeatures, weight.inFeatures, weight.paddedInFeatures)
    let columns = columns ?? 0..<n
    precondition(columns.lowerBound % 16 == 0 && columns.upperBound <= n, "int8 columns start on a block of 16")
    precondition(norm == nil || (ldo == n && columns == 0..<n), "a residual LayerNorm reads whole rows with row stride outF")
    let output = { (r: Range<Int>) in
        bq_output(sums: nil, out: out + r.lowerBound * ldo, ld: ldo, row_scales: rowScales + r.lowerBound,
                  col_scales: weight.scales)
    }
    if rows < smallMRowLimit {
        // ≤ 47 × inF bytes to quantize: cheaper on one thread than a join.
        quantizeRowsForward(q: scratch, ldq: kp, scales: rowScales, inp: inp, ldi: ldi, rows: rows, inF: k, kernel: kernel)
        pool.parallelFor(columns.count, granularity: 64) { share in
            let part = (columns.lowerBound + share.lowerBound)..<(columns.lowerBound + share.upperBound)
            bq_gemm(kernel.c, scratch, kp, Int32(rows), weight.packed, weight.columnSums, Int32(n), Int32(k),
                    Int32(part.lowerBound), Int32(part.upperBound), output(0..<rows))
            epilogue?.apply(out, ldo: ldo, rows: 0..<rows, columns: part)
        }
        norm?.apply(out, dim: n, rows: 0..<rows)  // a few rows: on this thread (as the quantization above)
    } else {
        // Chunks of 48 rows (whole row tiles of both kernels: 6 for AVX-512, 4 for AVX2) taken
        // as threads come free: the packed weights cost nothing to restart on.
        pool.dynamicFor(rows, chunk: 48) { r in
            let q = scratch + r.lowerBound * kp
            quantizeRowsForward(q: q, ldq: kp, scales: rowScales + r.lowerBound, inp: inp + r.lowerBound * ldi, ldi: ldi,
                                rows: r.count, inF: k, kernel: kernel)
            bq_gemm(kernel.c, q, kp, Int32(r.count), weight.packed, weight.columnSums, Int32(n), Int32(k),
                    Int32(columns.lowerBound), Int32(columns.upperBound), output(r))
            epilogue?.apply(out, ldo: ldo, rows: r, columns: columns)
            norm?.apply(out, dim: n, rows: r)
        }
    }
}

/// The raw GEMM on one thread, for tests: a (rows, kp) int8 (zeros past inF) times Wqᵀ over
/// `columns` (a multiple of 16 to a multiple of 16 or outF), into sums (rows, outF) as int32, or
/// with rowScales into out (rows, outF) dequantized. Columns outside the range are not written.
package func quantizedGemm(kernel: QuantizedKernel, a: [Int8], rows: Int, weight: QuantizedLinear, columns: Range<Int>,
                           sums: inout [Int32], out: inout [Float], rowScales: [Float]) {
    let (n, k, kp) = (weight.outFeatures, weight.inFeatures, weight.paddedInFeatures)
    precondition(a.count == rows * kp && sums.count == rows * n && out.count == rows * n && rowScales.count == rows)
    a.withUnsafeBufferPointer { a in
        rowScales.withUnsafeBufferPointer { rs in
            sums.withUnsafeMutableBufferPointer { sums in
                bq_gemm(kernel.c, a.baseAddress!, kp, Int32(rows), weight.packed, weight.columnSums, Int32(n), Int32(k),
                        Int32(columns.lowerBound), Int32(columns.upperBound),
                        bq_output(sums: sums.baseAddress!, out: nil, ld: n, row_scales: nil, col_scales: nil))
            }
            out.withUnsafeMutableBufferPointer { out in
                bq_gemm(kernel.c, a.baseAddress!, kp, Int32(rows), weight.packed, weight.columnSums, Int32(n), Int32(k),
                        Int32(columns.lowerBound), Int32(columns.upperBound),
                        bq_output(sums: nil, out: out.baseAddress!, ld: n, row_scales: rs.baseAddress!, col_scales: weight.scales))
            }
        }
    }
}
