import Foundation
import Prometheus

/// bertd's Prometheus metrics, in one swift-prometheus registry per server; `exposition()` is
/// the text `/metrics` serves. Names and help texts are listed in Deploy/METRICS.md (a test holds
/// the two equal). Thread-safe: the I/O thread, the compute thread and the gateway record into it.
///
/// swift-prometheus's registry is used directly rather than through swift-metrics' factory:
/// swift-metrics has no help texts, and Prometheus' linter (promtool) wants one per metric.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    private static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    private static let batchTextBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    private static let batchTokenBuckets: [Double] = [16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768]

    private static func name(_ name: String, _ unit: String = "", _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "bertd", metricName: name, unitName: unit, helpText: help)
    }

    static let requests = name("requests", "total", "Requests answered, by operation, transport (zeromq, http) and result code (ok or the error code).")
    static let queueTexts = name("queue_texts", "", "Texts waiting in the scheduler's queue.")
    static let queueTokens = name("queue_tokens", "", "Tokens waiting in the scheduler's queue.")
    static let inFlight = name("requests_in_flight", "", "Classify and embed requests queued or computing.")
    static let batchTexts = name("batch_texts", "", "Texts per computed batch.")
    static let batchTokens = name("batch_tokens", "", "Tokens per computed (padding-free) batch.")
    static let queueWait = name("queue_wait", "seconds", "Time a text waited in the queue before its batch started.")
    static let inference = name("inference", "seconds", "Compute time of one batch (encoder and head).")
    static let tokenization = name("tokenization", "seconds", "Time to validate and tokenize one classify or embed request.")
    static let tokens = name("tokens", "total", "Tokens computed (rate() of it is tokens per second).")
    static let texts = name("texts", "total", "Texts computed.")
    static let modelLoad = name("model_load", "seconds", "Time to load a model directory.")
    static let modelLoads = name("model_loads", "total", "Model loads, by result (ok, failed).")
    static let models = name("models_loaded", "", "Models being served.")
    static let jobs = name("jobs", "", "Training jobs, by state.")
    static let jobStep = name("job_step", "", "The running training job's optimizer step.")
    static let jobLoss = name("job_loss", "", "The running training job's mean training loss this epoch.")
    static let jobRate = name("job_examples_per_second", "", "The running training job's training throughput.")
    static let resident = MetricNameDescriptor(namespace: "process", metricName: "resident_memory", unitName: "bytes",
                                               helpText: "Resident memory of the bertd process.")
    static let buildInfo = name("build_info", "", "Always 1; the version label is bertd's release.")

    public init(version: String) {
        registry.makeGauge(descriptor: Self.buildInfo, labels: [("version", version)]).set(to: 1)
        // Registered now so that a scrape before any work shows every family.
        for d in [Self.queueTexts, Self.queueTokens, Self.inFlight, Self.models, Self.jobStep, Self.jobLoss, Self.jobRate] {
            registry.makeGauge(descriptor: d, labels: []).set(to: 0)
        }
        _ = registry.makeValueHistogram(descriptor: Self.batchTexts, buckets: Self.batchTextBuckets)
        _ = registry.makeValueHistogram(descriptor: Self.batchTokens, buckets: Self.batchTokenBuckets)
        for d in [Self.queueWait, Self.inference, Self.tokenization, Self.modelLoad] {
            _ = registry.makeValueHistogram(descriptor: d, buckets: Self.latencyBuckets)
        }
        _ = registry.makeCounter(descriptor: Self.tokens, labels: [])
        _ = registry.makeCounter(descriptor: Self.texts, labels: [])
    }

    func request(op: String, transport: String, code: String) {
        registry.makeCounter(descriptor: Self.requests, labels: [("op", op), ("transport", transport), ("code", code)]).increment()
    }

    func queue(texts: Int, tokens: Int, inFlight: Int) {
        registry.makeGauge(descriptor: Self.queueTexts, labels: []).set(to: Double(texts))
        registry.makeGauge(descriptor: Self.queueTokens, labels: []).set(to: Double(tokens))
        registry.makeGauge(descriptor: Self.inFlight, labels: []).set(to: Double(inFlight))
    }

    func batch(texts: Int, tokens: Int, seconds: Double, waits: [Double]) {
        registry.makeValueHistogram(descriptor: Self.batchTexts, buckets: Self.batchTextBuckets).record(Double(texts))
        registry.makeValueHistogram(descriptor: Self.batchTokens, buckets: Self.batchTokenBuckets).record(Double(tokens))
        registry.makeValueHistogram(descriptor: Self.inference, buckets: Self.latencyBuckets).record(seconds)
        let wait = registry.makeValueHistogram(descriptor: Self.queueWait, buckets: Self.latencyBuckets)
        for w in waits { wait.record(w) }
        registry.makeCounter(descriptor: Self.tokens, labels: []).increment(by: Int64(tokens))
        registry.makeCounter(descriptor: Self.texts, labels: []).increment(by: Int64(texts))
    }

    func tokenized(seconds: Double) {
        registry.makeValueHistogram(descriptor: Self.tokenization, buckets: Self.latencyBuckets).record(seconds)
    }

    func modelLoaded(seconds: Double, ok: Bool, models: Int) {
        registry.makeValueHistogram(descriptor: Self.modelLoad, buckets: Self.latencyBuckets).record(seconds)
        registry.makeCounter(descriptor: Self.modelLoads, labels: [("result", ok ? "ok" : "failed")]).increment()
        registry.makeGauge(descriptor: Self.models, labels: []).set(to: Double(models))
    }

    func models(_ count: Int) { registry.makeGauge(descriptor: Self.models, labels: []).set(to: Double(count)) }

    /// Job counts by state, and the running job's progress (zeros when none runs).
    func jobs(byState counts: [String: Int], step: Int, loss: Double, examplesPerSecond: Double) {
        for state in ["queued", "running", "finished", "failed", "cancelled", "interrupted"] {
            registry.makeGauge(descriptor: Self.jobs, labels: [("state", state)]).set(to: Double(counts[state] ?? 0))
        }
        registry.makeGauge(descriptor: Self.jobStep, labels: []).set(to: Double(step))
        registry.makeGauge(descriptor: Self.jobLoss, labels: []).set(to: loss.isFinite ? loss : 0)
        registry.makeGauge(descriptor: Self.jobRate, labels: []).set(to: examplesPerSecond.isFinite ? examplesPerSecond : 0)
    }

    /// The Prometheus text format (version 0.0.4) of every metric, the process's memory read now.
    public func exposition() -> String {
        registry.makeGauge(descriptor: Self.resident, labels: []).set(to: Double(Self.residentBytes()))
        return registry.emitToString()
    }

    /// VmRSS from /proc/self/statm (pages × page size).
    private static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
