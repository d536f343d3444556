@testable import BertCore
import XCTest

/// One dense layer in int8 (quantizedLinearForward: quantize the rows, GEMM, dequantize, split
/// over the pool) against fp32 (linearForward), element by element within the quantization's
/// own bound: with |a − â| ≤ sa/2 and |w − ŵ| ≤ sw/2,
///   |Σ a·w − Σ â·ŵ| ≤ Σ_k (|a_k| · sw/2 + |ŵ_k| · sa/2).
final class QuantizedLinearTests: XCTestCase {
    func testMiniLMDenseLayersWithinTheQuantizationBound() throws {
        let model = try ModelLoader.load(directory: try miniLMDirectory())
        let layer = model.tree.layers[0]
        for linear in [layer.qkv, layer.intermediate, layer.output] {
            for rows in [1, 5, 47, 48, 100] {  // both sides of smallMRowLimit
                try check(linear, parameters: model.parameters, rows: rows)
            }
        }
    }

    private func check(_ linear: Linear, parameters: ParameterArena, rows m: Int) throws {
        let (n, k) = (linear.outFeatures, linear.inFeatures)
        let w = parameters[linear.weight]
        var rng = SplitMix(seed: UInt64(m * 31 + k))
        // LayerNorm-like rows with an outlier feature, as BERT's residual stream has
        var x = (0..<(m * k)).map { _ in rng.signed() }
        for r in 0..<m { x[r * k + 7] = 12 }
        let q = QuantizedLinear(weight: w, outFeatures: n, inFeatures: k)
        let pool = ComputeThreads.pool
        var expected = [Float](repeating: 0, count: m * n), got = [Float](repeating: 0, count: m * n)
        var scratch = [Int8](repeating: 0, count: m * q.paddedInFeatures), scales = [Float](repeating: 0, count: m)
        x.withUnsafeBufferPointer { x in
            expected.withUnsafeMutableBufferPointer { e in
                linearForward(out: e.baseAddress!, ldo: n, inp: x.baseAddress!, ldi: k, weight: w, rows: m, inF: k, outF: n, pool: pool)
            }
            got.withUnsafeMutableBufferPointer { g in
                scratch.withUnsafeMutableBufferPointer { s in
                    scales.withUnsafeMutableBufferPointer { rs in
                        quantizedLinearForward(out: g.baseAddress!, ldo: n, inp: x.baseAddress!, ldi: k, weight: q, rows: m,
                                               scratch: s.baseAddress!, rowScales: rs.baseAddress!, pool: pool)
                    }
                }
            }
        }
        let sw = q.weightScales
        var worstShare = 0.0  // the largest error as a share of its bound
        for r in 0..<m {
            let amax = x[(r * k)..<((r + 1) * k)].map { abs($0) }.max()!
            let sa = Double(amax / 127)
            for j in 0..<n {
                var bound = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let (a, wv) = (Double(x[r * k + p]), Double(w[j * k + p]))
                    bound += abs(a) * Double(sw[j]) / 2 + (abs(wv) + Double(sw[j]) / 2) * sa / 2
                    magnitude += abs(a * wv)
                }
                bound = bound * (1 + 1e-4) + magnitude * 1e-6  // float rounding of both sides
                let error = abs(Double(expected[r * n + j]) - Double(got[r * n + j]))
                worstShare = max(worstShare, error / bound)
                if error > bound {
                    XCTFail("(\(n), \(k)) rows \(m): [\(r), \(j)] error \(error) > bound \(bound)")
                    return
                }
            }
        }
        print("int8 dense (\(n), \(k)) over \(m) rows: largest error \(worstShare) of its bound")
    }
}
