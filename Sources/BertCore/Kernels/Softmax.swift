/// Row-wise softmax in place: x is (rows, cols) with row stride ld.
/// Padding-free batches need no mask: every column is a real token of the sequence.
func softmaxForward(_ x: UnsafeMutablePointer<Float>, ld: Int, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = x + r * ld
        var maxValue = -Float.infinity
        for c in 0..<cols { maxValue = max(maxValue, row[c]) }
        var acc = Float8()
        var c = 0
        while c + 8 <= cols {
            let e = fastExp(load8(row + c) - maxValue)
            store8(e, row + c)
            acc += e
            c += 8
        }
        var sum = acc.sum()
        while c < cols { let e = fastExp(row[c] - maxValue); row[c] = e; sum += e; c += 1 }
        let inv = 1 / sum
        for c in 0..<cols { row[c] *= inv }
    }
}
