import COpenBLAS
import Foundation

/// The process-wide compute threads: one `ComputePool` that every forward pass uses, and
/// OpenBLAS pinned to one thread per call (the pool does the splitting).
public enum ComputeThreads {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var sharedPool: ComputePool?

    /// Uses n threads (caller included) from now on; default is the number of cores.
    public static func set(_ n: Int) {
        lock.lock()
        defer { lock.unlock() }
        openblas_set_num_threads(1)
        if sharedPool?.threadCount != max(1, n) { sharedPool = ComputePool(threads: n) }
    }

    public static var pool: ComputePool {
        lock.lock()
        defer { lock.unlock() }
        if let sharedPool { return sharedPool }
        openblas_set_num_threads(1)
        let pool = ComputePool(threads: cores)
        sharedPool = pool
        return pool
    }

    public static var current: Int { pool.threadCount }

    /// Cores this process may use (Foundation reads the affinity mask and cgroup limits).
    public static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
