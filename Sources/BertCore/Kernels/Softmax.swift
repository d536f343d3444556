/// Row-wise softmax in place: x is (rows, cols) with row stride ld.
/// Padding-free batches need no mask: every column is a real token of the sequence.
package func softmaxForward(_ x: UnsafeMutablePointer<Float>, ld: Int, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = x + r * ld
        // Vector max: Swift's scalar max() keeps IEEE NaN rules and does not vectorise.
        var m8 = Float8(repeating: -.infinity)
        var c = 0
        while c + 8 <= cols { m8 = lanesMax(m8, load8(row + c)); c += 8 }
        var maxValue = m8.max()
        while c < cols { maxValue = Swift.max(maxValue, row[c]); c += 1 }
        var acc = Float8()
        c = 0
        while c + 8 <= cols {
            let e = fastExp(load8(row + c) - maxValue)
            store8(e, row + c)
            acc += e
            c += 8
        }
        var sum = acc.sum()
        while c < cols { let e = fastExp(row[c] - maxValue); row[c] = e; sum += e; c += 1 }
        let inv = 1 / sum
        c = 0
        while c + 8 <= cols { store8(load8(row + c) * inv, row + c); c += 8 }
        while c < cols { row[c] *= inv; c += 1 }
    }
}

/// Backward of a row-wise softmax P = softmax(S): dS = P ⊙ (dP − Σ_j P·dP) per row.
/// probs and dProbs are (rows, cols) with row stride ld; dScores may be dProbs (in place).
package func softmaxBackward(dScores: UnsafeMutablePointer<Float>, dProbs: UnsafePointer<Float>,
                             probs: UnsafePointer<Float>, ld: Int, rows: Int, cols: Int) {
    for r in 0..<rows {
        let p = probs + r * ld, dp = dProbs + r * ld, ds = dScores + r * ld
        var acc = Float8()
        var c = 0
        while c + 8 <= cols { acc.addProduct(load8(p + c), load8(dp + c)); c += 8 }
        var dot = acc.sum()
        while c < cols { dot += p[c] * dp[c]; c += 1 }
        for c in 0..<cols { ds[c] = p[c] * (dp[c] - dot) }
    }
}
