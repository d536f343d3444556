import Synchronization
@testable import BertCore
import CDenseKernels
import XCTest

/// The hand-written kernels against plain loops, on random shapes that hit every remainder path.
final class KernelTests: XCTestCase {
    private func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1) } }

    func testGemmNNMatchesNaive() {
        for (m, n, k) in [(1, 8, 1), (3, 8, 5), (4, 16, 7), (5, 24, 32), (13, 40, 9), (64, 128, 32), (7, 32, 130)] {
            let (lda, ldb, ldc) = (k + 3, n + 8, n + 5)
            let a = random(m * lda), b = random(k * ldb)
            var c = [Float](repeating: .nan, count: m * ldc)
            gemmNN(m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: ldc)
            var worst: Float = 0
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0
                    for p in 0..<k { s += a[i * lda + p] * b[p * ldb + j] }
                    worst = max(worst, abs(c[i * ldc + j] - 0.5 * s))
                }
            }
            XCTAssertLessThan(worst, 1e-5, "gemmNN m=\(m) n=\(n) k=\(k)")
        }
    }

    /// Every dense small-M kernel this CPU runs (CDenseKernels' AVX-512 and AVX2 versions, the
    /// Swift one) against a plain loop: row strides wider than k, column ranges split where a
    /// 4-column tile is cut, k's tails, enough columns for the prefetch cursor to cross tiles, and
    /// nothing written outside the range asked for.
    func testLinearSmallMKernelsMatchNaive() {
        XCTAssertTrue(SmallMKernel.available.contains(.portable))
        #if arch(x86_64)
        XCTAssertTrue(SmallMKernel.available.contains(.avx2), "x86-64 builds assume AVX2 (-target-cpu haswell)")
        #endif
        let shapes = [(1, 1, 1), (1, 5, 8), (2, 4, 16), (3, 7, 13), (4, 9, 17), (5, 13, 31), (12, 36, 384),
                      (12, 70, 1536), (25, 43, 100), (47, 19, 33)]
        for kernel in SmallMKernel.available {
            for (m, n, k) in shapes {
                let (ldx, ldo) = (k + 3, n + 2)
                let x = random(m * ldx), w = random(n * k)
                var out = [Float](repeating: .nan, count: m * ldo)
                // Two column ranges, as the pool splits them (the first not a multiple of 4).
                let split = n / 2 + (n > 4 ? 1 : 0)
                linearSmallM(kernel, out: &out, ldo: ldo, x: x, ldx: ldx, weight: w, m: m, k: k, columns: 0..<split)
                for i in 0..<m {
                    XCTAssertTrue((split..<ldo).allSatisfy { out[i * ldo + $0].isNaN }, "\(kernel) wrote past its columns")
                }
                linearSmallM(kernel, out: &out, ldo: ldo, x: x, ldx: ldx, weight: w, m: m, k: k, columns: split..<n)
                var worst: Float = 0
                for i in 0..<m {
                    for j in 0..<n {
                        var s: Float = 0
                        for p in 0..<k { s += x[i * ldx + p] * w[j * k + p] }
                        worst = max(worst, abs(out[i * ldo + j] - s))
                    }
                    XCTAssertTrue((n..<ldo).allSatisfy { out[i * ldo + $0].isNaN }, "\(kernel) wrote past its columns")
                }
                XCTAssertLessThan(worst, 1e-4 * Float(max(1, k / 64)), "\(kernel) m=\(m) n=\(n) k=\(k)")
            }
        }
    }

    /// The C GELU (with bias) gives the Swift loop's bits on every value class: ordinary values,
    /// both sides of erf's ±4 clamp, zeros, denormals, huge values, infinities and NaN, a row
    /// stride wider than the row and a tail shorter than eight lanes.
    func testCGeluGivesTheSwiftBits() {
        let (rows, cols, ld) = (7, 45, 50)
        var values = (0..<(rows * ld)).map { _ in Float.random(in: -8...8) }
        let subnormal = Float.leastNormalMagnitude / 1000  // about 1e-41
        let special: [Float] = [0, -0, 5.6568, -5.6568, 5.6569, subnormal, -subnormal, 1e30, -1e30, .infinity, -.infinity, .nan, 88, -88]
        for (i, v) in special.enumerated() { values[i * 3] = v }
        let bias = (0..<cols).map { _ in Float.random(in: -0.5...0.5) }
        var c = values, swift = values
        let done = c.withUnsafeMutableBufferPointer { bd_bias_gelu($0.baseAddress!, ld, bias, Int32(rows), Int32(cols)) }
        #if arch(x86_64)
        XCTAssertEqual(done, 1, "x86-64 builds assume AVX2")
        #endif
        guard done == 1 else { return }
        portableBiasActivationForward(&swift, ld: ld, bias: bias, rows: rows, cols: cols, activation: .gelu)
        for i in 0..<values.count {
            XCTAssertEqual(c[i].bitPattern, swift[i].bitPattern, "value \(values[i]) at \(i): C \(c[i]), Swift \(swift[i])")
        }
        XCTAssertEqual(Array(c[cols..<ld]), Array(values[cols..<ld]), "wrote past the row")
    }

    /// The SIMD attention (d a multiple of 8) and the reference loops (other d) against a naive
    /// softmax(QKᵀ/√d)V, for sequence lengths around the 8-column padding.
    func testAttentionHeadMatchesNaive() {
        for (l, d, heads) in [(1, 8, 2), (5, 8, 1), (9, 32, 3), (16, 16, 2), (23, 6, 2), (70, 64, 1)] {
            let hidden = d * heads
            let qkv = random(l * 3 * hidden)
            var context = [Float](repeating: .nan, count: l * hidden)
            var scratch = [Float](repeating: 0, count: attentionScratchSize(longest: l, headSize: d))
            for h in 0..<heads {
                attentionHeadForward(context: &context, qkv: qkv, length: l, head: h, hidden: hidden, numHeads: heads, scratch: &scratch)
            }
            func q(_ i: Int, _ h: Int, _ c: Int) -> Double { Double(qkv[i * 3 * hidden + h * d + c]) }
            func k(_ j: Int, _ h: Int, _ c: Int) -> Double { Double(qkv[j * 3 * hidden + hidden + h * d + c]) }
            func v(_ j: Int, _ h: Int, _ c: Int) -> Double { Double(qkv[j * 3 * hidden + 2 * hidden + h * d + c]) }
            var worst: Float = 0
            for h in 0..<heads {
                for i in 0..<l {
                    var s = [Double](repeating: 0, count: l)
                    for j in 0..<l {
                        var dot = 0.0
                        for c in 0..<d { dot += q(i, h, c) * k(j, h, c) }
                        s[j] = dot / Double(d).squareRoot()
                    }
                    let m = s.max()!
                    s = s.map { Foundation.exp($0 - m) }
                    let z = s.reduce(0, +)
                    for c in 0..<d {
                        var expected = 0.0
                        for j in 0..<l { expected += s[j] / z * v(j, h, c) }
                        worst = max(worst, abs(context[i * hidden + h * d + c] - Float(expected)))
                    }
                }
            }
            XCTAssertLessThan(worst, 1e-5, "attention L=\(l) d=\(d)")
        }
    }

    func testPoolCoversEveryIndexOnce() {
        let pool = ComputePool(threads: 3)
        for count in [0, 1, 2, 5, 16, 17, 100, 1001] {
            for granularity in [1, 4, 16] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                pool.parallelFor(count, granularity: granularity) { range in
                    for i in range { hits[i] += 1 }
                }
                for i in 0..<count { XCTAssertEqual(hits[i], 1, "count \(count) granularity \(granularity) index \(i)") }
                hits.deallocate()
            }
            // Chunks handed out as threads come free: every index once, chunks whole but the last.
            for chunk in [1, 5, 48] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                let ranges = Mutex<[Range<Int>]>([])
                pool.dynamicFor(count, chunk: chunk) { range in
                    ranges.withLock { $0.append(range) }
                    for i in range { hits[i] += 1 }
                }
                for i in 0..<count { XCTAssertEqual(hits[i], 1, "count \(count) chunk \(chunk) index \(i)") }
                let split = ranges.withLock { $0 }
                if count > chunk { XCTAssertTrue(split.allSatisfy { $0.count == chunk || $0.upperBound == count }, "\(split)") }
                hits.deallocate()
            }
        }
        // Many short regions in a row: workers must neither miss nor repeat one.
        var total = 0
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        for _ in 0..<20_000 {
            counter.initialize(repeating: 0, count: 3)
            pool.run { counter[$0] = 1 }
            total += counter[0] + counter[1] + counter[2]
        }
        counter.deallocate()
        XCTAssertEqual(total, 60_000)
    }

    /// A single short sentence takes the small-M path, a long batch the OpenBLAS path: the same
    /// sequence must give the same hidden states both ways.
    func testSmallAndLargeBatchPathsAgree() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let short: [Int32] = [101, 7, 99, 300, 12, 102]
        var big = TokenBatch()
        big.append(ids: short)
        for n in 0..<8 { big.append(ids: (0..<60).map { Int32(($0 * 7 + n) % 500 + 5) }) }
        XCTAssertGreaterThanOrEqual(big.tokenCount, smallMRowLimit)
        let ws = model.makeWorkspace()
        let alone = try model.classify(TokenBatch(sequences: [short]), workspace: ws)[0]
        let inBatch = try model.classify(big, workspace: ws)[0]
        XCTAssertLessThanOrEqual(maxAbsDifference(alone, inBatch), 1e-5)
    }
}
