@testable import BertCore
import XCTest

/// Symmetric quantization's round trip: |x − dq(q(x))| ≤ scale / 2 per element (round to
/// nearest), q in [-127, 127] with ±127 at the row's largest magnitude; the vector quantizer
/// writes the same bytes as the portable one.
final class QuantizationRoundTripTests: XCTestCase {
    /// scale/2, plus float rounding of x · (127 / amax): ≤ 127 · 2⁻²³ quantization steps.
    private func bound(_ scale: Float) -> Double { Double(scale) * (0.5 + 2e-5) }

    func testActivationRowsRoundTripWithinHalfAStep() {
        var rng = SplitMix(seed: 21)
        for (m, k) in [(1, 1), (3, 7), (13, 37), (64, 384), (5, 1536)] {
            var x = (0..<(m * k)).map { _ in rng.signed() * 3 }
            x[0] = 40  // an outlier: the rest of row 0 gets coarse steps, still within the bound
            if m > 2 { for c in 0..<k { x[2 * k + c] = 0 } }  // an all-zero row: scale 0, q 0
            let kp = (k + 3) / 4 * 4
            var results: [QuantizedKernel: ([Int8], [Float])] = [:]
            for kernel in [QuantizedKernel.scalar, QuantizedKernel.best] {
                var q = [Int8](repeating: 99, count: m * kp)
                var scales = [Float](repeating: -1, count: m)
                x.withUnsafeBufferPointer { x in
                    q.withUnsafeMutableBufferPointer { q in
                        scales.withUnsafeMutableBufferPointer { s in
                            quantizeRowsForward(q: q.baseAddress!, ldq: kp, scales: s.baseAddress!, inp: x.baseAddress!, ldi: k,
                                                rows: m, inF: k, kernel: kernel)
                        }
                    }
                }
                results[kernel] = (q, scales)
                var worst = 0.0
                for r in 0..<m {
                    let row = x[(r * k)..<((r + 1) * k)]
                    let amax = row.map { abs($0) }.max()!
                    XCTAssertEqual(scales[r], amax / 127, "row \(r)")
                    if amax > 0 { XCTAssertEqual(q[(r * kp)..<(r * kp + k)].map { abs(Int($0)) }.max(), 127) }
                    for c in 0..<k {
                        let v = q[r * kp + c]
                        XCTAssert(v >= -127 && v <= 127)
                        let error = abs(Double(x[r * k + c]) - Double(v) * Double(scales[r]))
                        worst = max(worst, amax > 0 ? error / Double(scales[r]) : error)
                        XCTAssertLessThanOrEqual(error, bound(scales[r]), "\(kernel.rawValue) (\(r), \(c)) of (\(m), \(k))")
                    }
                    for c in k..<kp { XCTAssertEqual(q[r * kp + c], 0, "padding") }
                }
                print("int8 round trip (\(m), \(k)) \(kernel.rawValue): worst |x − dq(q(x))| = \(worst) steps")
            }
            XCTAssertEqual(results[.scalar]!.0, results[.best]!.0, "the \(QuantizedKernel.best.rawValue) quantizer's bytes")
            XCTAssertEqual(results[.scalar]!.1, results[.best]!.1)
        }
    }

    func testWeightsRoundTripPerOutputChannel() {
        var rng = SplitMix(seed: 8)
        let (n, k) = (45, 131)
        // rows of very different magnitudes: per-channel scales keep each row's own resolution
        let w = (0..<(n * k)).map { i in rng.signed() * Float(1 + i / k) * 0.01 }
        let linear = w.withUnsafeBufferPointer { QuantizedLinear(weight: $0.baseAddress!, outFeatures: n, inFeatures: k) }
        let scales = linear.weightScales
        for j in 0..<n {
            let amax = w[(j * k)..<((j + 1) * k)].map { abs($0) }.max()!
            XCTAssertEqual(scales[j], amax / 127)
        }
        // dq(q(W)) row j through the GEMM: a one-hot activation row e_c picks column c of q
        let kp = linear.paddedInFeatures
        for c in [0, 1, 64, 130] {
            var a = [Int8](repeating: 0, count: kp)
            a[c] = 1
            var sums = [Int32](repeating: 0, count: n), out = [Float](repeating: 0, count: n)
            quantizedGemm(kernel: .scalar, a: a, rows: 1, weight: linear, columns: 0..<n, sums: &sums, out: &out, rowScales: [1])
            for j in 0..<n {
                XCTAssert(abs(sums[j]) <= 127)
                XCTAssertLessThanOrEqual(abs(Double(w[j * k + c]) - Double(out[j])), bound(scales[j]), "W[\(j), \(c)]")
            }
        }
        XCTAssertEqual(linear.residentBytes, 48 * 132 + 48 * 4 + 45 * 4)
    }
}
