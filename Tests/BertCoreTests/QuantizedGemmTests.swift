@testable import BertCore
import XCTest

/// The int8 GEMM of every kernel this CPU runs against a plain integer reference: exact int32
/// sums, on odd shapes (M 1…64, K not a multiple of 32, N not a multiple of 16), on column
/// shares as the compute pool cuts them, and at the extremes of the range (±127 everywhere, where
/// an unguarded vpmaddubsw would saturate).
final class QuantizedGemmTests: XCTestCase {
    private let rowCounts = [1, 2, 3, 5, 13, 64]
    // (K, N): K not a multiple of 32 (nor of 4, for the padding), N not a multiple of 16
    private let shapes = [(1, 1), (7, 17), (37, 45), (100, 130), (131, 200), (384, 77), (1536, 19)]

    func testSumsEqualTheIntegerReferenceOnEveryKernel() {
        print("int8 kernels on this CPU: \(QuantizedKernel.available.map(\.rawValue))")
        var rng = SplitMix(seed: 7)
        for (k, n) in shapes {
            let w = (0..<(n * k)).map { _ in rng.int8() }
            let weight = QuantizedLinear(quantized: w, scales: [Float](repeating: 1, count: n), outFeatures: n, inFeatures: k)
            for m in rowCounts {
                let a = (0..<(m * k)).map { _ in rng.int8() }
                let expected = referenceSums(a: a, w: w, m: m, n: n, k: k)
                for kernel in QuantizedKernel.available {
                    let sums = gemmSums(kernel, a: a, m: m, weight: weight, columns: 0..<n)
                    XCTAssertEqual(sums, expected, "\(kernel.rawValue) M \(m) K \(k) N \(n)")
                }
            }
        }
    }

    func testColumnSharesWriteTheirColumnsOnly() {
        var rng = SplitMix(seed: 11)
        let (m, k, n) = (13, 99, 150)
        let w = (0..<(n * k)).map { _ in rng.int8() }
        let a = (0..<(m * k)).map { _ in rng.int8() }
        let weight = QuantizedLinear(quantized: w, scales: [Float](repeating: 1, count: n), outFeatures: n, inFeatures: k)
        let expected = referenceSums(a: a, w: w, m: m, n: n, k: k)
        for kernel in QuantizedKernel.available {
            for columns in [0..<64, 64..<128, 128..<150, 16..<32, 144..<150] {
                let sums = gemmSums(kernel, a: a, m: m, weight: weight, columns: columns)
                for i in 0..<m {
                    for j in 0..<n {
                        let want = columns.contains(j) ? expected[i * n + j] : Self.untouched
                        XCTAssertEqual(sums[i * n + j], want, "\(kernel.rawValue) columns \(columns) [\(i), \(j)]")
                    }
                }
            }
        }
    }

    func testExtremesDoNotSaturate() {
        // every pair of products is ±2 · 127²: the int16 limit of vpmaddubsw is 32 767
        let (k, n) = (259, 33)
        var rng = SplitMix(seed: 3)
        let w = (0..<(n * k)).map { _ in rng.next() & 1 == 0 ? Int8(127) : Int8(-127) }
        let weight = QuantizedLinear(quantized: w, scales: [Float](repeating: 1, count: n), outFeatures: n, inFeatures: k)
        for m in rowCounts {
            for fill in [Int8(127), Int8(-127)] {
                var a = [Int8](repeating: fill, count: m * k)
                if m > 1 { for c in 0..<k { a[k + c] = w[c] } }  // row 1 = weight row 0: Σ = 127² · k
                let expected = referenceSums(a: a, w: w, m: m, n: n, k: k)
                for kernel in QuantizedKernel.available {
                    XCTAssertEqual(gemmSums(kernel, a: a, m: m, weight: weight, columns: 0..<n), expected,
                                   "\(kernel.rawValue) M \(m) filled with \(fill)")
                }
            }
        }
        XCTAssertEqual(Int(127 * 127 * k), 4_177_411)  // row 1, column 0's sum is well inside int32
    }

    /// The dequantizing output stage: sum · rowScale · colScale, identical on every kernel.
    func testDequantizedOutputIsTheSameOnEveryKernel() {
        var rng = SplitMix(seed: 5)
        let (k, n) = (77, 70)
        let w = (0..<(n * k)).map { _ in rng.int8() }
        let colScales = (0..<n).map { _ in rng.float() * 0.01 + 1e-4 }
        let weight = QuantizedLinear(quantized: w, scales: colScales, outFeatures: n, inFeatures: k)
        for m in rowCounts {
            let a = (0..<(m * k)).map { _ in rng.int8() }
            let rowScales = (0..<m).map { _ in rng.float() * 0.1 }
            let sums = referenceSums(a: a, w: w, m: m, n: n, k: k)
            let expected = (0..<(m * n)).map { Float(sums[$0]) * rowScales[$0 / n] * colScales[$0 % n] }
            for kernel in QuantizedKernel.available {
                let out = gemmOutput(kernel, a: a, m: m, weight: weight, rowScales: rowScales)
                XCTAssertEqual(out, expected, "\(kernel.rawValue) M \(m)")
            }
        }
    }

    // MARK: support

    private static let untouched: Int32 = 0x5A5A_5A5A

    private func referenceSums(a: [Int8], w: [Int8], m: Int, n: Int, k: Int) -> [Int32] {
        var out = [Int32](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s: Int32 = 0
                for p in 0..<k { s += Int32(a[i * k + p]) * Int32(w[j * k + p]) }
                out[i * n + j] = s
            }
        }
        return out
    }

    /// a (m, k) → (m, kp) with zeros past k, as the row quantizer writes it.
    private func padded(_ a: [Int8], m: Int, k: Int, kp: Int) -> [Int8] {
        var out = [Int8](repeating: 0, count: m * kp)
        for i in 0..<m { for p in 0..<k { out[i * kp + p] = a[i * k + p] } }
        return out
    }

    private func gemmSums(_ kernel: QuantizedKernel, a: [Int8], m: Int, weight: QuantizedLinear, columns: Range<Int>) -> [Int32] {
        let n = weight.outFeatures
        var sums = [Int32](repeating: Self.untouched, count: m * n)
        var out = [Float](repeating: 0, count: m * n)
        quantizedGemm(kernel: kernel, a: padded(a, m: m, k: weight.inFeatures, kp: weight.paddedInFeatures), rows: m,
                      weight: weight, columns: columns, sums: &sums, out: &out, rowScales: [Float](repeating: 1, count: m))
        return sums
    }

    private func gemmOutput(_ kernel: QuantizedKernel, a: [Int8], m: Int, weight: QuantizedLinear, rowScales: [Float]) -> [Float] {
        let n = weight.outFeatures
        var sums = [Int32](repeating: 0, count: m * n)
        var out = [Float](repeating: .nan, count: m * n)
        quantizedGemm(kernel: kernel, a: padded(a, m: m, k: weight.inFeatures, kp: weight.paddedInFeatures), rows: m,
                      weight: weight, columns: 0..<n, sums: &sums, out: &out, rowScales: rowScales)
        return out
    }
}

/// A seeded generator for test data (SplitMix64).
struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-127, 127].
    mutating func int8() -> Int8 { Int8(Int(next() % 255) - 127) }
    /// Uniform in [0, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 24) }
    /// Uniform in [-1, 1).
    mutating func signed() -> Float { 2 * float() - 1 }
}
