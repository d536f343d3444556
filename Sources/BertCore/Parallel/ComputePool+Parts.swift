extension ComputePool {
    /// As `parallelFor`, and also tells each body which part it runs (0..<threadCount), so that
    /// a thread can sum into its own scratch (gradients of shared weights) and the caller can
    /// reduce the parts afterwards. Same split as `parallelFor`.
    package func parallelParts(_ count: Int, granularity: Int = 1, _ body: (_ part: Int, _ range: Range<Int>) -> Void) {
        let parts = min(threadCount, max(1, (count + granularity - 1) / granularity))
        if parts <= 1 { if count > 0 { body(0, 0..<count) }; return }
        let units = (count + granularity - 1) / granularity
        run { index in
            guard index < parts else { return }
            let lo = min(count, (units * index / parts) * granularity)
            let hi = min(count, (units * (index + 1) / parts) * granularity)
            if lo < hi { body(index, lo..<hi) }
        }
    }
}

extension ComputePool {
    /// Runs body on chunks of `chunk` items of 0..<count (the last may be shorter), handed out to
    /// the threads as they come free: when one core runs slower (a busy neighbour, an interrupt)
    /// the other takes more chunks instead of waiting for it at the join. For work whose chunks
    /// cost nothing to start (no per-call packing), e.g. the int8 GEMM on pre-packed weights.
    package func dynamicFor(_ count: Int, chunk: Int, _ body: (Range<Int>) -> Void) {
        let chunks = (count + chunk - 1) / chunk
        if chunks <= 1 || threadCount == 1 { if count > 0 { body(0..<count) }; return }
        let next = WorkCounter()
        run { _ in
            while true {
                let c = next.take()
                if c >= chunks { break }
                body((c * chunk)..<min(count, (c + 1) * chunk))
            }
        }
    }
}
