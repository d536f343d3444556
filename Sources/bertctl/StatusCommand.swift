import ArgumentParser

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "bertd's queue, batches, latency percentiles, uptime and version.")

    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "Print the status object as one JSON line.") var json = false

    func run() throws {
        let s = try daemon.call(DaemonOptions.newRequest(.status))
        if json { return ResultPrinter.print(s, json: true) }
        let queue = s["queue"] as? [String: Any] ?? [:]
        let latency = s["latency_ms"] as? [String: Any] ?? [:]
        let abandoned = s["abandoned"] as? [String: Any] ?? [:]
        let errors = (s["errors"] as? [String: Any] ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        let precisions = (s["model_precision"] as? [String: Any] ?? [:]).map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")
        func number(_ v: Any?) -> String { (v as? Double).map { String(format: "%.1f", $0) } ?? "\(v ?? "-")" }
        print("""
        bertd \(s["version"] ?? "?") (protocol \(s["protocol"] ?? "?")), up \(s["uptime_s"] ?? 0) s, \(s["threads"] ?? "?") threads
        models      \(s["models"] ?? 0)\(precisions.isEmpty ? "" : " (" + precisions + ")")
        queue       \(queue["texts"] ?? 0) texts, \(queue["tokens"] ?? 0) tokens, \(queue["requests_in_flight"] ?? 0) requests in flight
        requests    \(s["requests"] ?? 0) served, \(number(s["requests_per_s"])) req/s (last 10 s)
        batches     \(s["batches"] ?? 0), mean \(number(s["mean_batch_texts"])) texts
        latency ms  p50 \(number(latency["p50"]))  p90 \(number(latency["p90"]))  p99 \(number(latency["p99"]))
        errors      \(errors.isEmpty ? "none" : errors)
        dropped     \(s["expired"] ?? 0) texts past their deadline; \(abandoned["requests"] ?? 0) requests abandoned by their clients (\(abandoned["texts"] ?? 0) queued texts withdrawn)
        """)
    }
}
