import Foundation
import Synchronization

/// The threads that run one forward (or backward) pass together.
///
/// Every op of the encoder is split across these threads (GEMMs by rows or by output columns,
/// attention by sequence and head, elementwise ops by rows), with a join after each op. OpenBLAS
/// itself is kept single-threaded: its own pool spins between calls and would fight ours for the
/// same two cores, and it splits small attention GEMMs where splitting costs more than it saves.
///
/// Workers spin briefly between ops (a join costs ~1 µs instead of a futex wake-up's ~20–50 µs)
/// and then sleep, so an idle daemon uses no CPU. The caller runs part 0 itself.
public final class ComputePool: @unchecked Sendable {
    public let threadCount: Int

    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var job: ((Int) -> Void)?  // written before `generation` is bumped (release/acquire)
    private var mutex = pthread_mutex_t()
    private var wakeUp = pthread_cond_t()
    private let callerLock = NSLock()  // one parallel region at a time
    private var threads: [pthread_t] = []

    /// How long a worker busy-waits for the next op (≈ tens of µs: the gap between two ops of a
    /// forward pass), then yields the core for a while, then sleeps. Yielding matters when the
    /// machine is oversubscribed (a server's I/O thread, other processes): a spinner must not
    /// hold a core the thread it waits for needs.
    private static let spinIterations = 20_000
    private static let yieldIterations = 2_000

    public init(threads: Int) {
        threadCount = max(1, threads)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wakeUp, nil)
        for index in 1..<threadCount {
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index))
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.workerLoop(index: start.index)
                return nil
            }, box.toOpaque())
            precondition(rc == 0, "pthread_create failed: \(rc)")
            self.threads.append(thread)
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&wakeUp)
        pthread_mutex_unlock(&mutex)
        for t in threads { pthread_join(t, nil) }
        pthread_cond_destroy(&wakeUp)
        pthread_mutex_destroy(&mutex)
    }

    private final class WorkerStart {
        let pool: ComputePool
        let index: Int
        init(pool: ComputePool, index: Int) { self.pool = pool; self.index = index }
    }

    /// Runs body(0..<threadCount) in parallel, body(0) on the calling thread; returns when all are done.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 { body(0); return }
        callerLock.lock()
        defer { callerLock.unlock() }
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            pending.store(threadCount - 1, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(&mutex)
                pthread_cond_broadcast(&wakeUp)
                pthread_mutex_unlock(&mutex)
            }
            escaping(0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins < Self.spinIterations { spinPause() } else { sched_yield() }
            }
            job = nil
        }
    }

    /// Splits 0..<count into threadCount contiguous ranges (multiples of `granularity` except the
    /// last) and runs body on each in parallel. Empty ranges are skipped.
    public func parallelFor(_ count: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = min(threadCount, max(1, (count + granularity - 1) / granularity))
        if parts <= 1 { if count > 0 { body(0..<count) }; return }
        let units = (count + granularity - 1) / granularity
        run { index in
            guard index < parts else { return }
            let lo = min(count, (units * index / parts) * granularity)
            let hi = min(count, (units * (index + 1) / parts) * granularity)
            if lo < hi { body(lo..<hi) }
        }
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                if stopping.load(ordering: .relaxed) { return }
                spins += 1
                if spins < Self.spinIterations {
                    spinPause()
                } else if spins < Self.spinIterations + Self.yieldIterations {
                    sched_yield()
                } else {
                    pthread_mutex_lock(&mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen && !stopping.load(ordering: .sequentiallyConsistent) {
                        pthread_cond_wait(&wakeUp, &mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(&mutex)
                    spins = 0
                }
                current = generation.load(ordering: .acquiring)
            }
            if stopping.load(ordering: .relaxed) { return }
            seen = current
            job?(index)
            pending.subtract(1, ordering: .releasing)
        }
    }
}

/// The body of a spin-wait; the atomic load in the loop condition keeps it from being hoisted.
@inline(__always)
private func spinPause() {}
