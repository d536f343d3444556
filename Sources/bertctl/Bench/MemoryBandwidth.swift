import BertCore
import Foundation

/// The machine's practical rate of reading memory that no cache holds: what a batch-of-one
/// forward pass is bound by, since it reads every dense weight once for a handful of tokens
/// (BERT-base: 340 MB of fp32 weights for a 12-token sentence, far more than any L3).
enum MemoryBandwidth {
    /// GB/s of `threads` threads summing disjoint parts of a 256 MB buffer (8× a 32 MB L3, so
    /// every pass comes from DRAM), best of 5 after a warm-up that also faults the pages in.
    static func readGBps(threads: Int) -> Double {
        let count = 64 << 20  // floats: 256 MB
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: count)
        let pool = ComputePool(threads: threads)
        let chunk = 1 << 16  // floats per part: a multiple of every vector width
        var sink: Float = 0
        let times = Stopwatch.measure(warmup: 1, repetitions: 5) {
            var sums = [Float](repeating: 0, count: threads)
            sums.withUnsafeMutableBufferPointer { sums in
                pool.run { part in
                    let parts = count / chunk
                    let range = (parts * part / threads)..<(parts * (part + 1) / threads)
                    sums[part] = sum(buffer + range.lowerBound * chunk, count: range.count * chunk)
                }
            }
            sink += sums.reduce(0, +)
        }
        precondition(sink == 0, "the buffer is zeros")  // keeps the sums from being optimised away
        return Double(count * MemoryLayout<Float>.size) / times.min()! / 1e9
    }

    /// The sum of `count` floats (a multiple of 64) with four independent 16-lane accumulators,
    /// so that the loop is bound by loads, not by the latency of one chain of adds.
    private static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>(), d = SIMD16<Float>()
        var i = 0
        while i < count {
            a += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            b += UnsafeRawPointer(p + i + 16).loadUnaligned(as: SIMD16<Float>.self)
            c += UnsafeRawPointer(p + i + 32).loadUnaligned(as: SIMD16<Float>.self)
            d += UnsafeRawPointer(p + i + 48).loadUnaligned(as: SIMD16<Float>.self)
            i += 64
        }
        return (a + b + c + d).sum()
    }
}
