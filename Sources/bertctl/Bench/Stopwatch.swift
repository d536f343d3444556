import BertCore
import Foundation

/// Monotonic wall-clock timing for the benchmarks.
enum Stopwatch {
    static func now() -> Double { monotonicSeconds() }

    /// Runs `body` `warmup` times untimed, then `repetitions` times; returns each run's seconds.
    static func measure(warmup: Int, repetitions: Int, _ body: () throws -> Void) rethrows -> [Double] {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = now()
            try body()
            times.append(now() - start)
        }
        return times
    }
}
