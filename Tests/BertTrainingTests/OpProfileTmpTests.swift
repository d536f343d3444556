import BertCore
@testable import BertTraining
import Foundation
import XCTest
func attentionScratchSizeTmp() -> Int { 72 * 72 + 32 * 72 }
final class OpProfileTmpTests: XCTestCase {
    func testOps() {
        let pool = ComputeThreads.pool
        let (t, h, i, heads) = (2048, 384, 1536, 12)
        let starts = (0...32).map { $0 * 64 }
        func buf(_ n: Int) -> UnsafeMutablePointer<Float> { let p = UnsafeMutablePointer<Float>.allocate(capacity: n); for k in 0..<n { p[k] = Float.random(in: -1...1) }; return p }
        func time(_ label: String, _ f: () -> Void) { f(); var best = 1e9; for _ in 0..<5 { let s = DispatchTime.now().uptimeNanoseconds; f(); best = min(best, Double(DispatchTime.now().uptimeNanoseconds - s) / 1e6) }; print("\(label): \(best) ms") }
        let qkv = buf(t * 3 * h), ctx = buf(t * h), dqkv = buf(t * 3 * h), dctx = buf(t * h)
        let offsets = attentionProbabilityOffsets(sequenceStarts: starts, numHeads: heads)
        let probs = buf(offsets.last!), per = attentionTrainingScratchSize(longest: 64), scratch = buf(per * 2)
        time("attention fwd") { attentionTrainingForward(context: ctx, qkv: qkv, probabilities: probs, dropoutMask: nil, probabilityOffsets: offsets, sequenceStarts: starts, hidden: h, numHeads: heads, scratch: scratch, scratchPerThread: per, pool: pool) }
        time("attention fwd again") { attentionTrainingForward(context: ctx, qkv: qkv, probabilities: probs, dropoutMask: nil, probabilityOffsets: offsets, sequenceStarts: starts, hidden: h, numHeads: heads, scratch: scratch, scratchPerThread: per, pool: pool) }
        let infScratch = buf(attentionScratchSizeTmp() * 2)
        _ = infScratch
        time("attention bwd") { attentionBackward(dqkv: dqkv, dContext: dctx, qkv: qkv, probabilities: probs, dropoutMask: nil, probabilityOffsets: offsets, sequenceStarts: starts, hidden: h, numHeads: heads, scratch: scratch, scratchPerThread: per, pool: pool) }
        let x = buf(t * i), dy = buf(t * i), dx = buf(t * i), w = buf(i * 3 * h), dw = buf(i * 3 * h), db = buf(i), y = buf(t * i)
        for (inF, outF) in [(h, 3 * h), (h, h), (h, i), (i, h)] {
            let fl = 2.0 * Double(t * inF * outF)
            time("linear fwd \(inF)→\(outF) (\(fl / 1e9) GFLOP)") { linearForward(out: y, ldo: outF, inp: x, ldi: inF, weight: w, rows: t, inF: inF, outF: outF, pool: pool) }
            time("linear bwd \(inF)→\(outF) (\(2 * fl / 1e9) GFLOP)") { linearBackward(dInp: dx, ldx: inF, accumulateInput: true, dWeight: dw, dBias: db, dOut: dy, ldd: outF, inp: x, ldi: inF, weight: w, rows: t, inF: inF, outF: outF, pool: pool) }
        }
        let mean = buf(t), rstd = buf(t)
        time("layernorm bwd") { layerNormBackward(dInp: dx, dWeight: dw, dBias: db, dOut: dy, inp: x, weight: w, mean: mean, rstd: rstd, rows: t, dim: h, accumulate: false, pool: pool) }
        time("gelu bwd") { pool.parallelFor(t * i, granularity: 4096) { r in activationBackward(dInp: dx + r.lowerBound, dOut: dy + r.lowerBound, inp: x + r.lowerBound, count: r.count, activation: .gelu) } }
        time("gelu fwd") { pool.parallelFor(t * i, granularity: 4096) { r in activationForward(out: dx + r.lowerBound, inp: x + r.lowerBound, count: r.count, activation: .gelu) } }
        time("dropout mask T×H") { dropoutMask(dx, count: t * h, p: 0.1, rng: DropoutRNG(seed: 1), pass: 0, site: 0, pool: pool) }
    }
}
