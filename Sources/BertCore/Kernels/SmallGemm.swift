// Register-blocked GEMM micro-kernels for the shapes OpenBLAS handles poorly: the attention
// products of one head (L × L × d with d = 32 or 64) and dense layers over a handful of tokens
// (a single sentence: M ≈ 12). Both run on the calling thread; the pool splits the work.
// Accumulation uses fused multiply-add (SIMD.addingProduct → vfmadd).

/// C (m, n) = alpha · A (m, k) · B (k, n) [+ C if accumulate]; row-major with strides.
/// n must be a multiple of 8.
func gemmNN(m: Int, n: Int, k: Int, alpha: Float,
            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
            c: UnsafeMutablePointer<Float>, ldc: Int) {
    precondition(n % 8 == 0, "gemmNN needs n % 8 == 0")
    var i = 0
    while i + 4 <= m {
        var j = 0
        while j + 16 <= n {
            var c00 = Float8(), c01 = Float8(), c10 = Float8(), c11 = Float8()
            var c20 = Float8(), c21 = Float8(), c30 = Float8(), c31 = Float8()
            let a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
            var bp = b + j
            for p in 0..<k {
                let b0 = load8(bp), b1 = load8(bp + 8)
                let x0 = Float8(repeating: a0[p]), x1 = Float8(repeating: a1[p])
                let x2 = Float8(repeating: a2[p]), x3 = Float8(repeating: a3[p])
                c00.addProduct(x0, b0); c01.addProduct(x0, b1)
                c10.addProduct(x1, b0); c11.addProduct(x1, b1)
                c20.addProduct(x2, b0); c21.addProduct(x2, b1)
                c30.addProduct(x3, b0); c31.addProduct(x3, b1)
                bp += ldb
            }
            let cp = c + i * ldc + j
            store8(c00 * alpha, cp); store8(c01 * alpha, cp + 8)
            store8(c10 * alpha, cp + ldc); store8(c11 * alpha, cp + ldc + 8)
            store8(c20 * alpha, cp + 2 * ldc); store8(c21 * alpha, cp + 2 * ldc + 8)
            store8(c30 * alpha, cp + 3 * ldc); store8(c31 * alpha, cp + 3 * ldc + 8)
            j += 16
        }
        while j < n {  // one 8-wide column block
            var c0 = Float8(), c1 = Float8(), c2 = Float8(), c3 = Float8()
            let a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
            var bp = b + j
            for p in 0..<k {
                let b0 = load8(bp)
                c0.addProduct(Float8(repeating: a0[p]), b0); c1.addProduct(Float8(repeating: a1[p]), b0)
                c2.addProduct(Float8(repeating: a2[p]), b0); c3.addProduct(Float8(repeating: a3[p]), b0)
                bp += ldb
            }
            let cp = c + i * ldc + j
            store8(c0 * alpha, cp); store8(c1 * alpha, cp + ldc); store8(c2 * alpha, cp + 2 * ldc); store8(c3 * alpha, cp + 3 * ldc)
            j += 8
        }
        i += 4
    }
    while i < m {  // remaining rows, one at a time
        let ai = a + i * lda
        var j = 0
        while j < n {
            var c0 = Float8()
            var bp = b + j
            for p in 0..<k { c0.addProduct(Float8(repeating: ai[p]), load8(bp)); bp += ldb }
            store8(c0 * alpha, c + i * ldc + j)
            j += 8
        }
        i += 1
    }
}

/// out[m, n] = x[m, :] · W[n, :] for n in `columns`: a dense layer (weight (N, K) as
/// torch.nn.Linear stores it) over few rows, streaming each weight row once for all rows of x.
/// x is (m, k) with stride ldx, out is (m, N) with stride ldo.
func linearSmallM(out: UnsafeMutablePointer<Float>, ldo: Int, x: UnsafePointer<Float>, ldx: Int,
                  weight: UnsafePointer<Float>, m: Int, k: Int, columns: Range<Int>) {
    let k8 = k & ~7
    var n = columns.lowerBound
    while n + 4 <= columns.upperBound {
        let w0 = weight + n * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
        var i = 0
        while i + 2 <= m {
            let x0 = x + i * ldx, x1 = x0 + ldx
            var a00 = Float8(), a01 = Float8(), a02 = Float8(), a03 = Float8()
            var a10 = Float8(), a11 = Float8(), a12 = Float8(), a13 = Float8()
            var p = 0
            while p < k8 {
                let v0 = load8(w0 + p), v1 = load8(w1 + p), v2 = load8(w2 + p), v3 = load8(w3 + p)
                let u0 = load8(x0 + p)
                a00.addProduct(u0, v0); a01.addProduct(u0, v1); a02.addProduct(u0, v2); a03.addProduct(u0, v3)
                let u1 = load8(x1 + p)
                a10.addProduct(u1, v0); a11.addProduct(u1, v1); a12.addProduct(u1, v2); a13.addProduct(u1, v3)
                p += 8
            }
            var r0 = SIMD4<Float>(a00.sum(), a01.sum(), a02.sum(), a03.sum())
            var r1 = SIMD4<Float>(a10.sum(), a11.sum(), a12.sum(), a13.sum())
            while p < k {
                let v = SIMD4<Float>(w0[p], w1[p], w2[p], w3[p])
                r0.addProduct(x0[p], v); r1.addProduct(x1[p], v)
                p += 1
            }
            let o0 = out + i * ldo + n, o1 = o0 + ldo
            o0[0] = r0[0]; o0[1] = r0[1]; o0[2] = r0[2]; o0[3] = r0[3]
            o1[0] = r1[0]; o1[1] = r1[1]; o1[2] = r1[2]; o1[3] = r1[3]
            i += 2
        }
        if i < m {
            let x0 = x + i * ldx
            var a0 = Float8(), a1 = Float8(), a2 = Float8(), a3 = Float8()
            var p = 0
            while p < k8 {
                let u = load8(x0 + p)
                a0.addProduct(u, load8(w0 + p)); a1.addProduct(u, load8(w1 + p))
                a2.addProduct(u, load8(w2 + p)); a3.addProduct(u, load8(w3 + p))
                p += 8
            }
            var r = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
            while p < k { r.addProduct(x0[p], SIMD4<Float>(w0[p], w1[p], w2[p], w3[p])); p += 1 }
            let o = out + i * ldo + n
            o[0] = r[0]; o[1] = r[1]; o[2] = r[2]; o[3] = r[3]
        }
        n += 4
    }
    while n < columns.upperBound {  // leftover weight rows
        let w = weight + n * k
        for i in 0..<m {
            let xi = x + i * ldx
            var acc = Float8()
            var p = 0
            while p < k8 { acc.addProduct(load8(xi + p), load8(w + p)); p += 8 }
            var s = acc.sum()
            while p < k { s += xi[p] * w[p]; p += 1 }
            out[i * ldo + n] = s
        }
        n += 1
    }
}
