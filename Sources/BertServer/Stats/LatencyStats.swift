/// Request counters and a window of recent latencies for `status` and the STATUS= line.
/// Used from the I/O thread only.
struct ServerStats {
    private(set) var requests = 0
    private(set) var errorsByCode: [String: Int] = [:]
    /// Requests whose client disconnected before they were answered (withdrawn from the queue,
    /// or read after the client had gone).
    private(set) var abandonedRequests = 0
    private var latencies: [Double] = []       // ring buffer of the last `window` (seconds)
    private var next = 0
    private let window = 10_000
    private var recentCompletions: [Double] = []  // completion times within the last 10 s, for req/s

    mutating func record(latency: Double, at now: Double) {
        requests += 1
        if latencies.count < window { latencies.append(latency) } else { latencies[next] = latency }
        next = (next + 1) % window
        recentCompletions.append(now)
        if recentCompletions.count > 4 * window || (recentCompletions.first.map { now - $0 > 10 } ?? false) {
            recentCompletions.removeAll { now - $0 > 10 }
        }
    }

    mutating func record(error code: String) { errorsByCode[code, default: 0] += 1 }

    mutating func recordAbandoned(requests: Int) { abandonedRequests += requests }

    /// Latency quantiles in milliseconds over the window.
    func percentiles(_ qs: [Double]) -> [Double] {
        guard !latencies.isEmpty else { return qs.map { _ in 0 } }
        return latencies.quantiles(qs).map { $0 * 1000 }
    }

    /// Completed requests per second over the last 10 s.
    func requestsPerSecond(now: Double, since start: Double) -> Double {
        let recent = recentCompletions.filter { now - $0 <= 10 }.count
        return Double(recent) / max(min(10, now - start), 0.001)
    }
}
