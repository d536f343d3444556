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
