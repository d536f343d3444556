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
    forEachSequenceHead(sequenceStarts: sequenceStarts, numHeads: numHeads, pool: pool) { thread, s, h in
        let start = sequenceStarts[s]
        attentionHeadForward(context: context + start * hidden, qkv: qkv + start * 3 * hidden,
                             length: sequenceStarts[s + 1] - start, head: h, hidden: hidden,
                             numHeads: numHeads, scratch: scratch + thread * scratchPerThread)
    }
}

/// Attention of each sequence's first token alone (the last layer of a model whose head reads
/// [CLS]): per (sequence s, head) context[s] = softmax(q[s] Kᵀ / √d) V over the sequence's keys
/// and values. queries (B, H), one row per sequence; qkv (T, 3H) as `attentionForward` reads it
/// (its query columns unused); context (B, H). Each thread's scratch holds one row of scores.
func firstTokenAttentionForward(context: UnsafeMutablePointer<Float>, queries: UnsafePointer<Float>,
                                qkv: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, scratchPerThread: Int,
                                sequenceStarts: [Int], hidden: Int, numHeads: Int, pool: ComputePool) {
    let d = hidden / numHeads
    let ld = 3 * hidden
    let scale = 1 / Float(d).squareRoot()
    forEachSequenceHead(sequenceStarts: sequenceStarts, numHeads: numHeads, pool: pool) { thread, s, h in
        let start = sequenceStarts[s], l = sequenceStarts[s + 1] - start
        let q = queries + s * hidden + h * d
        let k = qkv + start * ld + hidden + h * d
        let v = k + hidden
        let scores = scratch + thread * scratchPerThread
        // scores (1, L) = q Kᵀ / √d
        for j in 0..<l {
            let kj = k + j * ld
            var sum: Float = 0
            for c in 0..<d { sum += q[c] * kj[c] }
            scores[j] = scale * sum
        }
        softmaxForward(scores, ld: l, rows: 1, cols: l)
        // context (1, d) = P (1, L) · V (L, d)
        let out = context + s * hidden + h * d
        out.update(repeating: 0, count: d)
        for j in 0..<l {
            let (pj, vj) = (scores[j], v + j * ld)
            for c in 0..<d { out[c] += pj * vj[c] }
        }
    }
}

/// Runs body(thread, sequence, head) for every (sequence, head) pair of a batch, shared out to
/// the pool's threads dynamically: sequences differ in length, so static slices would leave a
/// thread idle. `thread` picks the caller's scratch slice.
package func forEachSequenceHead(sequenceStarts: [Int], numHeads: Int, pool: ComputePool,
                                 _ body: (_ thread: Int, _ sequence: Int, _ head: Int) -> Void) {
    let items = (sequenceStarts.count - 1) * numHeads
    let next = WorkCounter()
    pool.run { thread in
        while true {
            let item = next.take()
            if item >= items { break }
            let (s, h) = item.quotientAndRemainder(dividingBy: numHeads)
            body(thread, s, h)
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
package final class WorkCounter: @unchecked Sendable {
    private let value = Atomic<Int>(0)
    package init() {}
    @inline(__always) package func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}

// MARK: training
// The training forward keeps the probabilities of every (sequence, head) for the backward,
// which the inference kernel above does not.

/// Floats of `probabilities` for a batch: Σ over sequences of heads·L².
package func attentionProbabilityOffsets(sequenceStarts: [Int], numHeads: Int) -> [Int] {
    var offsets = [0]
    for s in 0..<(sequenceStarts.count - 1) {
        let l = sequenceStarts[s + 1] - sequenceStarts[s]
        offsets.append(offsets[s] + numHeads * l * l)
    }
    return offsets
}

/// Scratch floats one thread needs for sequences up to `longest` tokens (two L×L matrices).
package func attentionTrainingScratchSize(longest: Int) -> Int { 2 * longest * longest }

/// context = softmax(Q Kᵀ/√d) V per (sequence, head), keeping P for the backward.
/// qkv is (T, 3H) (query, key, value; head h at columns h·d..<(h+1)·d of each), context (T, H).
/// probabilities: for sequence s of length L, the heads' (L, L) matrices back to back from
/// probabilityOffsets[s] (head h at + h·L²). dropoutMask, when given, has the same layout and
/// holds 0 or 1/(1−p): context = (P ⊙ mask) V, as HF applies nn.Dropout to attention_probs.
/// (sequence, head) pairs are shared out dynamically, like the inference kernel.
package func attentionTrainingForward(context: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                                      probabilities: UnsafeMutablePointer<Float>, dropoutMask: UnsafePointer<Float>?,
                                      probabilityOffsets: [Int], sequenceStarts: [Int], hidden: Int, numHeads: Int,
                                      scratch: UnsafeMutablePointer<Float>, scratchPerThread: Int, pool: ComputePool) {
    let d = hidden / numHeads
    let scale = 1 / Float(d).squareRoot()
    forEachSequenceHead(sequenceStarts: sequenceStarts, numHeads: numHeads, pool: pool) { thread, s, h in
        let dropped = scratch + thread * scratchPerThread
        let start = sequenceStarts[s], l = sequenceStarts[s + 1] - start
        let q = qkv + start * 3 * hidden + h * d
        let p = probabilities + probabilityOffsets[s] + h * l * l
        // scores (L, L) = Q Kᵀ / √d, then softmax in place
        sgemm(transA: false, transB: true, m: l, n: l, k: d, alpha: scale, a: q, lda: 3 * hidden,
              b: q + hidden, ldb: 3 * hidden, beta: 0, c: p, ldc: l)
        softmaxForward(p, ld: l, rows: l, cols: l)
        var weights = UnsafePointer(p)
        if let dropoutMask {
            let m = dropoutMask + probabilityOffsets[s] + h * l * l
            for i in 0..<(l * l) { dropped[i] = p[i] * m[i] }
            weights = UnsafePointer(dropped)
        }
        // context (L, d) = P V
        sgemm(transA: false, transB: false, m: l, n: d, k: l, alpha: 1, a: weights, lda: l,
              b: q + 2 * hidden, ldb: 3 * hidden, beta: 0, c: context + start * hidden + h * d, ldc: hidden)
    }
}

/// Backward of `attentionTrainingForward`, per (sequence, head), with P̃ = P ⊙ mask:
///   dP̃ = dC Vᵀ,  dV = P̃ᵀ dC,  dP = dP̃ ⊙ mask,  dS = softmax′(dP),
///   dQ = dS K / √d,  dK = dSᵀ Q / √d.
/// dContext is (T, H); dqkv (T, 3H) is overwritten (every element belongs to one (sequence, head)).
package func attentionBackward(dqkv: UnsafeMutablePointer<Float>, dContext: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                               probabilities: UnsafePointer<Float>, dropoutMask: UnsafePointer<Float>?,
                               probabilityOffsets: [Int], sequenceStarts: [Int], hidden: Int, numHeads: Int,
                               scratch: UnsafeMutablePointer<Float>, scratchPerThread: Int, pool: ComputePool) {
    let d = hidden / numHeads
    let scale = 1 / Float(d).squareRoot()
    let ld = 3 * hidden
    forEachSequenceHead(sequenceStarts: sequenceStarts, numHeads: numHeads, pool: pool) { thread, s, h in
        let dp = scratch + thread * scratchPerThread
        let start = sequenceStarts[s], l = sequenceStarts[s + 1] - start
        let q = qkv + start * ld + h * d, k = q + hidden, v = q + 2 * hidden
        let dq = dqkv + start * ld + h * d, dk = dq + hidden, dv = dq + 2 * hidden
        let dc = dContext + start * hidden + h * d
        let p = probabilities + probabilityOffsets[s] + h * l * l
        let mask = dropoutMask.map { $0 + probabilityOffsets[s] + h * l * l }
        let dropped = dp + l * l
        var weights = p
        if let mask {
            for i in 0..<(l * l) { dropped[i] = p[i] * mask[i] }
            weights = UnsafePointer(dropped)
        }
        // dP̃ (L, L) = dC Vᵀ;  dV (L, d) = P̃ᵀ dC
        sgemm(transA: false, transB: true, m: l, n: l, k: d, alpha: 1, a: dc, lda: hidden, b: v, ldb: ld,
              beta: 0, c: dp, ldc: l)
        sgemm(transA: true, transB: false, m: l, n: d, k: l, alpha: 1, a: weights, lda: l, b: dc, ldb: hidden,
              beta: 0, c: dv, ldc: ld)
        if let mask { for i in 0..<(l * l) { dp[i] *= mask[i] } }
        softmaxBackward(dScores: dp, dProbs: dp, probs: p, ld: l, rows: l, cols: l)
        // dQ = dS K / √d;  dK = dSᵀ Q / √d
        sgemm(transA: false, transB: false, m: l, n: d, k: l, alpha: scale, a: dp, lda: l, b: k, ldb: ld,
              beta: 0, c: dq, ldc: ld)
        sgemm(transA: true, transB: false, m: l, n: d, k: l, alpha: scale, a: dp, lda: l, b: q, ldb: ld,
              beta: 0, c: dk, ldc: ld)
    }
}
