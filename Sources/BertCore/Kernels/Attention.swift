/// Multi-head self-attention over a padding-free batch, one sequence and head at a time.
/// qkv is (T, 3·H): per token the query, key and value projections (bias added), each H wide
/// with head h at columns h·d..<(h+1)·d. context is (T, H). scores is scratch of at least
/// L·L floats for the longest sequence L. sequenceStarts has one entry per sequence plus the
/// total token count, so sequence s spans tokens sequenceStarts[s]..<sequenceStarts[s+1].
/// Per head: context = softmax(Q Kᵀ / √d) V — no mask, since no position is padding.
func attentionForward(context: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                      scores: UnsafeMutablePointer<Float>, sequenceStarts: [Int],
                      hidden: Int, numHeads: Int) {
    let d = hidden / numHeads
    let ld = 3 * hidden
    let scale = 1 / Float(d).squareRoot()
    for s in 0..<(sequenceStarts.count - 1) {
        let start = sequenceStarts[s]
        let length = sequenceStarts[s + 1] - start
        if length == 0 { continue }
        for h in 0..<numHeads {
            let q = qkv + start * ld + h * d
            let k = q + hidden
            let v = q + 2 * hidden
            // scores (L, L) = scale · Q (L, d) · Kᵀ (d, L)
            sgemm(transA: false, transB: true, m: length, n: length, k: d, alpha: scale,
                  a: q, lda: ld, b: k, ldb: ld, beta: 0, c: scores, ldc: length)
            softmaxForward(scores, ld: length, rows: length, cols: length)
            // context (L, d) = P (L, L) · V (L, d)
            sgemm(transA: false, transB: false, m: length, n: d, k: length, alpha: 1,
                  a: scores, lda: length, b: v, ldb: ld, beta: 0, c: context + start * hidden + h * d, ldc: hidden)
        }
    }
}
