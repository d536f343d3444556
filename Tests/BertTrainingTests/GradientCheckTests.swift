import BertCore
@testable import BertTraining
import Foundation
import XCTest

/// Every backward kernel against central differences of a Double-precision forward.
final class GradientCheckTests: XCTestCase {
    private var rng = SeededGenerator(seed: 42)
    private let pool = ComputePool(threads: 3)  // three parts: uneven splits of rows and columns

    func testLayerNorm() {
        for (rows, dim) in [(5, 13), (9, 24)] {
            let x = rng.floats(rows * dim, in: -2...2), w = rng.floats(dim), b = rng.floats(dim), dy = rng.floats(rows * dim)
            let eps: Float = 1e-5
            func reference(_ t: [[Double]]) -> [Double] {
                var y = [Double](repeating: 0, count: rows * dim)
                for r in 0..<rows {
                    let row = t[0][(r * dim)..<((r + 1) * dim)]
                    let mean = row.reduce(0, +) / Double(dim)
                    let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(dim)
                    for c in 0..<dim { y[r * dim + c] = (row[r * dim + c] - mean) / (variance + Double(eps)).squareRoot() * t[1][c] + t[2][c] }
                }
                return y
            }
            var out = [Float](repeating: 0, count: rows * dim), mean = [Float](repeating: 0, count: rows), rstd = mean
            layerNormTrainingForward(out: &out, inp: x, weight: w, bias: b, mean: &mean, rstd: &rstd, rows: rows, dim: dim, eps: eps)
            expectClose("layerNorm forward \(rows)x\(dim)", out, reference([x, w, b].map { $0.map(Double.init) }).map(Float.init), tolerance: 1e-5)
            let numeric = numericGradients([x, w, b]) { weightedSum(reference($0), dy) }
            // Accumulating into non-zero buffers checks the += contract too.
            var dx = [Float](repeating: 1, count: rows * dim), dw = [Float](repeating: 1, count: dim), db = dw
            layerNormBackward(dInp: &dx, dWeight: &dw, dBias: &db, dOut: dy, inp: x, weight: w, mean: mean, rstd: rstd,
                              rows: rows, dim: dim, accumulate: true, pool: pool)
            expectClose("layerNorm dInp", dx.map { $0 - 1 }, numeric[0], tolerance: 1e-4, relative: true)
            expectClose("layerNorm dWeight", dw.map { $0 - 1 }, numeric[1], tolerance: 1e-4, relative: true)
            expectClose("layerNorm dBias", db.map { $0 - 1 }, numeric[2], tolerance: 1e-4, relative: true)
        }
    }

    func testLinear() {
        for (rows, inF, outF) in [(37, 19, 23), (3, 32, 3), (64, 40, 48)] {
            let (ldi, ldd, ldx) = (inF + 3, outF + 5, inF + 1)
            let x = rng.floats(rows * ldi), w = rng.floats(outF * inF), b = rng.floats(outF), dy = rng.floats(rows * ldd)
            func reference(_ t: [[Double]]) -> [Double] {
                var y = [Double](repeating: 0, count: rows * ldd)
                for r in 0..<rows {
                    for o in 0..<outF {
                        var s = t[2][o]
                        for i in 0..<inF { s += t[0][r * ldi + i] * t[1][o * inF + i] }
                        y[r * ldd + o] = s
                    }
                }
                return y
            }
            let mask = (0..<(rows * ldd)).map { $0 % ldd < outF ? dy[$0] : 0 }  // only real columns carry gradient
            let numeric = numericGradients([x, w, b]) { weightedSum(reference($0), mask) }
            var dx = [Float](repeating: 0, count: rows * ldx), dw = [Float](repeating: 0, count: outF * inF), db = [Float](repeating: 0, count: outF)
            linearBackward(dInp: &dx, ldx: ldx, accumulateInput: false, dWeight: &dw, dBias: &db, dOut: mask, ldd: ldd,
                           inp: x, ldi: ldi, weight: w, rows: rows, inF: inF, outF: outF, pool: pool)
            let dxReal = (0..<(rows * inF)).map { dx[($0 / inF) * ldx + $0 % inF] }
            let numericX = (0..<(rows * inF)).map { numeric[0][($0 / inF) * ldi + $0 % inF] }
            expectClose("linear \(rows)x\(inF)→\(outF) dInp", dxReal, numericX, tolerance: 1e-4, relative: true)
            expectClose("linear dWeight", dw, numeric[1], tolerance: 1e-4, relative: true)
            expectClose("linear dBias", db, numeric[2], tolerance: 1e-4, relative: true)
        }
    }

    func testActivations() {
        for activation in [Activation.gelu, .geluTanh, .tanh, .relu, .identity] {
            let n = 37
            // Away from ReLU's kink, where a central difference straddles it.
            let x = rng.floats(n, in: -4...4).map { abs($0) < 0.01 ? $0 + 0.05 : $0 }, dy = rng.floats(n)
            var y = [Float](repeating: 0, count: n)
            activationForward(out: &y, inp: x, count: n, activation: activation)
            expectClose("\(activation) forward", y, x.map { Float(activationDouble(Double($0), activation)) }, tolerance: 1e-6)
            let numeric = numericGradients([x]) { t in weightedSum(t[0].map { activationDouble($0, activation) }, dy) }
            var dx = [Float](repeating: 0, count: n)
            activationBackward(dInp: &dx, dOut: dy, inp: x, count: n, activation: activation)
            expectClose("\(activation) backward", dx, numeric[0], tolerance: 1e-5, relative: true)
        }
    }

    func testSoftmax() {
        let (rows, cols, ld) = (4, 11, 13)
        let x = rng.floats(rows * ld, in: -3...3), dy = rng.floats(rows * ld)
        func reference(_ t: [[Double]]) -> [Double] {
            var y = [Double](repeating: 0, count: rows * ld)
            for r in 0..<rows {
                let p = softmaxDouble(Array(t[0][(r * ld)..<(r * ld + cols)]))
                for c in 0..<cols { y[r * ld + c] = p[c] }
            }
            return y
        }
        var p = x
        softmaxForward(&p, ld: ld, rows: rows, cols: cols)
        let dyReal = (0..<(rows * ld)).map { $0 % ld < cols ? dy[$0] : 0 }
        let numeric = numericGradients([x]) { weightedSum(reference($0), dyReal) }
        var dx = [Float](repeating: 0, count: rows * ld)
        softmaxBackward(dScores: &dx, dProbs: dyReal, probs: p, ld: ld, rows: rows, cols: cols)
        let real = (0..<(rows * ld)).filter { $0 % ld < cols }
        expectClose("softmax backward", real.map { dx[$0] }, real.map { numeric[0][$0] }, tolerance: 1e-5, relative: true)
    }

    /// Multi-head attention over a padding-free batch of three sequences, with and without an
    /// attention-dropout mask, for a SIMD-friendly and an odd head size.
    func testAttention() {
        for (hidden, heads, withDropout) in [(16, 2, false), (16, 2, true), (12, 2, true)] {
            let starts = [0, 5, 14, 15]
            let t = starts.last!, d = hidden / heads
            let qkv = rng.floats(t * 3 * hidden), dContext = rng.floats(t * hidden)
            let offsets = attentionProbabilityOffsets(sequenceStarts: starts, numHeads: heads)
            let mask: [Float]? = withDropout ? (0..<offsets.last!).map { _ in Float.random(in: 0..<1, using: &rng) < 0.25 ? 0 : 4 / 3 } : nil
            func reference(_ inputs: [[Double]]) -> [Double] {
                let x = inputs[0]
                var out = [Double](repeating: 0, count: t * hidden)
                for s in 0..<(starts.count - 1) {
                    let (s0, l) = (starts[s], starts[s + 1] - starts[s])
                    for h in 0..<heads {
                        for i in 0..<l {
                            var scores = [Double](repeating: 0, count: l)
                            for j in 0..<l {
                                var dot = 0.0
                                for c in 0..<d { dot += x[(s0 + i) * 3 * hidden + h * d + c] * x[(s0 + j) * 3 * hidden + hidden + h * d + c] }
                                scores[j] = dot / Double(d).squareRoot()
                            }
                            var p = softmaxDouble(scores)
                            if let mask { for j in 0..<l { p[j] *= Double(mask[offsets[s] + h * l * l + i * l + j]) } }
                            for c in 0..<d {
                                var v = 0.0
                                for j in 0..<l { v += p[j] * x[(s0 + j) * 3 * hidden + 2 * hidden + h * d + c] }
                                out[(s0 + i) * hidden + h * d + c] = v
                            }
                        }
                    }
                }
                return out
            }
            let scratchPerThread = attentionTrainingScratchSize(longest: 9)
            var scratch = [Float](repeating: 0, count: scratchPerThread * pool.threadCount)
            var context = [Float](repeating: 0, count: t * hidden), probs = [Float](repeating: 0, count: offsets.last!)
            withOptionalPointer(mask) { mask in
                attentionTrainingForward(context: &context, qkv: qkv, probabilities: &probs, dropoutMask: mask, probabilityOffsets: offsets,
                                         sequenceStarts: starts, hidden: hidden, numHeads: heads, scratch: &scratch,
                                         scratchPerThread: scratchPerThread, pool: pool)
            }
            let label = "attention H=\(hidden) heads=\(heads)\(withDropout ? " dropout" : "")"
            expectClose("\(label) forward", context, reference([qkv.map(Double.init)]).map(Float.init), tolerance: 1e-5)
            let numeric = numericGradients([qkv]) { weightedSum(reference($0), dContext) }
            var dqkv = [Float](repeating: .nan, count: t * 3 * hidden)
            withOptionalPointer(mask) { mask in
                attentionBackward(dqkv: &dqkv, dContext: dContext, qkv: qkv, probabilities: probs, dropoutMask: mask, probabilityOffsets: offsets,
                                  sequenceStarts: starts, hidden: hidden, numHeads: heads, scratch: &scratch,
                                  scratchPerThread: scratchPerThread, pool: pool)
            }
            expectClose("\(label) dqkv", dqkv, numeric[0], tolerance: 1e-4, relative: true)
        }
    }

    func testLosses() {
        let (rows, classes) = (4, 5)
        let logits = rng.floats(rows * classes, in: -3...3), labels = [2, 0, 4, 2]
        let weights: [Float] = [0.5, 2, 1, 3, 0.25]
        func nll(_ z: [Double], _ r: Int) -> Double {
            -Foundation.log(softmaxDouble(Array(z[(r * classes)..<((r + 1) * classes)]))[labels[r]])
        }
        let cases: [(LossFunction, ([Double]) -> Double)] = [
            (.crossEntropy, { z in (0..<rows).reduce(0) { $0 + nll(z, $1) } / Double(rows) }),
            (.weightedCrossEntropy(classWeights: weights), { z in
                let w = labels.map { Double(weights[$0]) }
                return (0..<rows).reduce(0) { $0 + w[$1] * nll(z, $1) } / w.reduce(0, +)
            }),
            (.focal(gamma: 2), { z in (0..<rows).reduce(0) { s, r in
                let n = nll(z, r)
                return s + Foundation.pow(1 - Foundation.exp(-n), 2) * n
            } / Double(rows) }),
            (.focal(gamma: 0.5), { z in (0..<rows).reduce(0) { s, r in
                let n = nll(z, r)
                return s + Foundation.pow(1 - Foundation.exp(-n), 0.5) * n
            } / Double(rows) }),
        ]
        for (loss, reference) in cases {
            var probs = [Float](repeating: 0, count: rows * classes), dLogits = probs
            let value = loss.evaluate(logits: logits, labels: labels, classes: classes, probs: &probs, dLogits: &dLogits)
            expectClose("\(loss) value", [value], [Float(reference(logits.map(Double.init)))], tolerance: 1e-6)
            let numeric = numericGradients([logits]) { reference($0[0]) }
            expectClose("\(loss) dLogits", dLogits, numeric[0], tolerance: 1e-5, relative: true)
        }
        // Focal with γ = 0 is cross-entropy.
        var p = [Float](repeating: 0, count: rows * classes), g1 = p, g2 = p
        let ce = LossFunction.crossEntropy.evaluate(logits: logits, labels: labels, classes: classes, probs: &p, dLogits: &g1)
        let focal = LossFunction.focal(gamma: 0).evaluate(logits: logits, labels: labels, classes: classes, probs: &p, dLogits: &g2)
        XCTAssertEqual(ce, focal, accuracy: 1e-6)
        XCTAssertLessThanOrEqual(maxAbsDifference(g1, g2), 1e-7)
    }

    /// Rows used several times accumulate; rows never used stay untouched.
    func testEmbedding() {
        let (vocab, positions, types, hidden) = (7, 6, 2, 10)
        let ids: [Int32] = [3, 1, 3, 6, 3], pos: [Int32] = [0, 1, 2, 3, 4], typeIds: [Int32] = [0, 1, 1, 0, 1]
        let t = ids.count
        let word = rng.floats(vocab * hidden), position = rng.floats(positions * hidden), tokenType = rng.floats(types * hidden)
        let dy = rng.floats(t * hidden)
        func reference(_ x: [[Double]]) -> [Double] {
            var out = [Double](repeating: 0, count: t * hidden)
            for i in 0..<t {
                for c in 0..<hidden {
                    out[i * hidden + c] = x[0][Int(ids[i]) * hidden + c] + x[1][Int(pos[i]) * hidden + c] + x[2][Int(typeIds[i]) * hidden + c]
                }
            }
            return out
        }
        var out = [Float](repeating: 0, count: t * hidden)
        embeddingForward(out: &out, ids: ids, positions: pos, typeIds: typeIds, word: word, position: position, tokenType: tokenType,
                         tokens: t, hidden: hidden)
        expectClose("embedding forward", out, reference([word, position, tokenType].map { $0.map(Double.init) }).map(Float.init), tolerance: 1e-6)
        let numeric = numericGradients([word, position, tokenType]) { weightedSum(reference($0), dy) }
        var dWord = [Float](repeating: 0, count: vocab * hidden), dPos = [Float](repeating: 0, count: positions * hidden)
        var dType = [Float](repeating: 0, count: types * hidden)
        for columns in [0..<3, 3..<hidden] {  // as the pool splits it
            embeddingBackward(dWord: &dWord, dPosition: &dPos, dTokenType: &dType, dOut: dy, ids: ids, positions: pos, typeIds: typeIds,
                              tokens: t, hidden: hidden, columns: columns)
        }
        expectClose("embedding dWord", dWord, numeric[0], tolerance: 1e-5, relative: true)
        expectClose("embedding dPosition", dPos, numeric[1], tolerance: 1e-5, relative: true)
        expectClose("embedding dTokenType", dType, numeric[2], tolerance: 1e-5, relative: true)
        XCTAssertEqual(dWord[0..<hidden].reduce(0) { $0 + abs($1) }, 0, "row 0 is never used")
    }

    /// One adapter y = y0 + s·B A (x ⊙ mask), with strided input and output.
    func testLoRA() {
        for withDropout in [false, true] {
            let (rows, inF, outF, rank, ldx, ldy) = (50, 12, 9, 3, 14, 27)
            let scale: Float = 2
            let x = rng.floats(rows * ldx), a = rng.floats(rank * inF), b = rng.floats(outF * rank), dy = rng.floats(rows * ldy)
            let mask: [Float]? = withDropout ? (0..<(rows * inF)).map { _ in Float.random(in: 0..<1, using: &rng) < 0.3 ? 0 : 1 / 0.7 } : nil
            let dyReal = (0..<(rows * ldy)).map { $0 % ldy < outF ? dy[$0] : 0 }
            func reference(_ t: [[Double]]) -> [Double] {
                var y = [Double](repeating: 0, count: rows * ldy)
                for r in 0..<rows {
                    var u = [Double](repeating: 0, count: rank)
                    for k in 0..<rank {
                        for i in 0..<inF { u[k] += t[1][k * inF + i] * t[0][r * ldx + i] * Double(mask?[r * inF + i] ?? 1) }
                    }
                    for o in 0..<outF {
                        var s = 0.0
                        for k in 0..<rank { s += t[2][o * rank + k] * u[k] }
                        y[r * ldy + o] = Double(scale) * s
                    }
                }
                return y
            }
            var y = [Float](repeating: 0, count: rows * ldy), u = [Float](repeating: 0, count: rows * rank)
            var xDropped = [Float](repeating: 0, count: rows * inF)
            xDropped.withUnsafeMutableBufferPointer { xd in
                withOptionalPointer(mask) { mask in
                    loraForward(y: &y, ldy: ldy, u: &u, xDropped: mask == nil ? nil : xd.baseAddress, x: x, ldx: ldx, mask: mask, a: a, b: b,
                                rows: rows, inF: inF, outF: outF, rank: rank, scale: scale, pool: pool)
                }
            }
            let yRef = reference([x, a, b].map { $0.map(Double.init) })
            expectClose("LoRA forward\(withDropout ? " dropout" : "")", y, yRef.map(Float.init), tolerance: 1e-5)
            let numeric = numericGradients([x, a, b]) { weightedSum(reference($0), dyReal) }
            var dx = [Float](repeating: 0, count: rows * ldx), dA = [Float](repeating: 0, count: rank * inF)
            var dB = [Float](repeating: 0, count: outF * rank), dU = [Float](repeating: 0, count: rows * rank)
            var dXDropped = [Float](repeating: 0, count: rows * inF)
            dXDropped.withUnsafeMutableBufferPointer { dxd in
                withOptionalPointer(mask) { mask in
                    withOptionalPointer(mask == nil ? nil : xDropped) { xd in
                        loraBackward(dX: &dx, lddx: ldx, dA: &dA, dB: &dB, dY: dyReal, ldd: ldy, u: u, dU: &dU,
                                     dXDropped: mask == nil ? nil : dxd.baseAddress, xDropped: xd, x: x, ldx: ldx, mask: mask,
                                     a: a, b: b, rows: rows, inF: inF, outF: outF, rank: rank, scale: scale, pool: pool)
                    }
                }
            }
            let real = (0..<(rows * ldx)).filter { $0 % ldx < inF }
            expectClose("LoRA dX", real.map { dx[$0] }, real.map { numeric[0][$0] }, tolerance: 1e-4, relative: true)
            expectClose("LoRA dA", dA, numeric[1], tolerance: 1e-4, relative: true)
            expectClose("LoRA dB", dB, numeric[2], tolerance: 1e-4, relative: true)
        }
    }
}
