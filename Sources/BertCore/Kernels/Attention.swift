import Synchronization

/// Multi-head self-attention over a padding-free batch.
/// qkv is (T, 3·H): per token the query, key and value projections (bias added), each H wide
/// with head h at columns h·d..<(h+1)·d. context is (T, H). sequenceStarts has one entry per
/// sequence plus the total, so sequence s spans tokens sequenceStarts[s]..<sequenceStarts[s+1].
/// Per (sequence, head): context = softmax(Q Kᵀ / √d) V — no mask, since no position is
/// padding. The (sequence, head) pairs are shared out to the pool's threads dynamically
/// (sequences differ in length); each thread uses its own slice of `scratch`.
func attentionForward(context: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                      scratch: UnsafeMutablePointer<Float>, scratchPerThread: Int,
                      sequenceStarts: [Int], hidden: Int, numHeads: Int, pool: ComputePool) {
    let sequences = sequenceStarts.count - 1
    let items = sequences * numHeads
    let next = WorkCounter()
    pool.run { thread in
        let mine = scratch + thread * scratchPerThread
        while true {
            let item = next.take()
            if item >= items { break }
            let (s, h) = item.quotientAndRemainder(dividingBy: numHeads)
            let start = sequenceStarts[s]
            attentionHeadForward(context: context + start * hidden, qkv: qkv + start * 3 * hidden,
                                 length: sequenceStarts[s + 1] - start, head: h, hidden: hidden,
                                 numHeads: numHeads, scratch: mine)
        }
    }
}

/// Scratch floats one thread needs for sequences up to `longest` tokens.
func attentionScratchSize(longest: Int, headSize d: Int) -> Int {
    let lp = (longest + 7) & ~7
    return lp * lp + d * lp
}

/// One head of one sequence of L tokens. scratch holds scores (L, Lp) and Kᵀ (d, Lp),
/// Lp = L rounded up to 8 (the padding columns of Kᵀ are zero and ignored by the softmax).
func attentionHeadForward(context: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, length l: Int,
                          head h: Int, hidden: Int, numHeads: Int, scratch: UnsafeMutablePointer<Float>) {
    let d = hidden / numHeads
    let ld = 3 * hidden
    let lp = (l + 7) & ~7
    let scores = scratch
    let kt = scratch + lp * lp
    let q = qkv + h * d
    let k = q + hidden
    let v = q + 2 * hidden
    let out = context + h * d
    if d % 8 != 0 {
        attentionHeadReference(out: out, q: q, k: k, v: v, ld: ld, ldo: hidden, length: l, d: d, scores: scores)
        return
    }
    // Kᵀ (d, Lp), zero-padded, so that scores = Q · Kᵀ is a plain NN product.
    for c in 0..<d {
        let row = kt + c * lp
        for j in 0..<l { row[j] = k[j * ld + c] }
        for j in l..<lp { row[j] = 0 }
    }
    gemmNN(m: l, n: lp, k: d, alpha: 1 / Float(d).squareRoot(), a: q, lda: ld, b: kt, ldb: lp, c: scores, ldc: lp)
    softmaxForward(scores, ld: lp, rows: l, cols: l)
    // context (L, d) = P (L, L) · V (L, d)
    gemmNN(m: l, n: d, k: l, alpha: 1, a: scores, lda: lp, b: v, ldb: ld, c: out, ldc: hidden)
}

/// Plain loops for head sizes that are not a multiple of 8.
private func attentionHeadReference(out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                                    v: UnsafePointer<Float>, ld: Int, ldo: Int, length l: Int, d: Int,
                                    scores: UnsafeMutablePointer<Float>) {
    let scale = 1 / Float(d).squareRoot()
    for i in 0..<l {
        for j in 0..<l {
            var s: Float = 0
            for c in 0..<d { s += q[i * ld + c] * k[j * ld + c] }
            scores[i * l + j] = s * scale
        }
    }
    softmaxForward(scores, ld: l, rows: l, cols: l)
    for i in 0..<l {
        for c in 0..<d {
            var s: Float = 0
            for j in 0..<l { s += scores[i * l + j] * v[j * ld + c] }
            out[i * ldo + c] = s
        }
    }
}

/// A shared counter handing out work items to the pool's threads.
final class WorkCounter: @unchecked Sendable {
    private let value = Atomic<Int>(0)
    @inline(__always) func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
