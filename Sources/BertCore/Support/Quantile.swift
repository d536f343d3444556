extension Array where Element == Double {
    /// The q-quantile (0…1) by nearest rank: the smallest value with at least q of the values at
    /// or below it (p99 of 100 values is the largest but one). NaN for an empty array.
    public func quantile(_ q: Double) -> Double {
        quantiles([q])[0]
    }

    /// Several quantiles with one sort.
    public func quantiles(_ qs: [Double]) -> [Double] {
        guard !isEmpty else { return qs.map { _ in .nan } }
        let sorted = self.sorted()
        return qs.map { q in sorted[Swift.min(sorted.count - 1, Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))] }
    }

    public var median: Double { quantile(0.5) }
}
