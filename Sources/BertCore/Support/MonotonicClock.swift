#if canImport(Glibc)
import Glibc
#endif

/// Seconds on CLOCK_MONOTONIC, for durations, deadlines and rates: it never jumps when the wall
/// clock is set. The one clock of every module (scheduler, training runs, benchmarks, CLI).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// CLOCK_MONOTONIC in whole microseconds: the clock systemd compares MONOTONIC_USEC against.
public func monotonicMicroseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1_000
}
