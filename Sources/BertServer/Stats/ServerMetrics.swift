import Foundation
import Prometheus

/// bertd's Prometheus metrics, in one swift-prometheus registry per server; `exposition()` is
/// the text `/metrics` serves. Names and help texts are listed in Deploy/METRICS.md (a test holds
/// the two equal). Thread-safe: the I/O thread, the compute thread and the gateway record into it.
///
/// swift-prometheus's registry is used directly rather than through swift-metrics' factory:
/// swift-metrics has no help texts, and Prometheus' linter (promtool) wants one per metric.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

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

    // The unlabelled metrics, registered once (a scrape before any work shows every family).
    private let queueTextsGauge, queueTokensGauge, inFlightGauge, modelsGauge: Gauge
    private let jobStepGauge, jobLossGauge, jobRateGauge, residentGauge: Gauge
    private let batchTextsHistogram, batchTokensHistogram: ValueHistogram
    private let queueWaitHistogram, inferenceHistogram, tokenizationHistogram, modelLoadHistogram: ValueHistogram
    private let tokensCounter, textsCounter: Counter

    public init(version: String) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        registry.makeGauge(descriptor: Self.buildInfo, labels: [("version", version)]).set(to: 1)
        let gauge = { (d: MetricNameDescriptor) in registry.makeGauge(descriptor: d, labels: []) }
        (queueTextsGauge, queueTokensGauge, inFlightGauge, modelsGauge) =
            (gauge(Self.queueTexts), gauge(Self.queueTokens), gauge(Self.inFlight), gauge(Self.models))
        (jobStepGauge, jobLossGauge, jobRateGauge, residentGauge) =
            (gauge(Self.jobStep), gauge(Self.jobLoss), gauge(Self.jobRate), gauge(Self.resident))
        let latency = { (d: MetricNameDescriptor) in registry.makeValueHistogram(descriptor: d, buckets: Self.latencyBuckets) }
        batchTextsHistogram = registry.makeValueHistogram(descriptor: Self.batchTexts, buckets: Self.batchTextBuckets)
        batchTokensHistogram = registry.makeValueHistogram(descriptor: Self.batchTokens, buckets: Self.batchTokenBuckets)
        (queueWaitHistogram, inferenceHistogram, tokenizationHistogram, modelLoadHistogram) =
            (latency(Self.queueWait), latency(Self.inference), latency(Self.tokenization), latency(Self.modelLoad))
        tokensCounter = registry.makeCounter(descriptor: Self.tokens, labels: [])
        textsCounter = registry.makeCounter(descriptor: Self.texts, labels: [])
    }

    func request(op: String, transport: String, code: String) {
        registry.makeCounter(descriptor: Self.requests, labels: [("op", op), ("transport", transport), ("code", code)]).increment()
    }

    func queue(texts: Int, tokens: Int, inFlight: Int) {
        queueTextsGauge.set(to: Double(texts))
        queueTokensGauge.set(to: Double(tokens))
        inFlightGauge.set(to: Double(inFlight))
    }

    func batch(texts: Int, tokens: Int, seconds: Double, waits: [Double]) {
        batchTextsHistogram.record(Double(texts))
        batchTokensHistogram.record(Double(tokens))
        inferenceHistogram.record(seconds)
        for w in waits { queueWaitHistogram.record(w) }
        tokensCounter.increment(by: Int64(tokens))
        textsCounter.increment(by: Int64(texts))
    }

    func tokenized(seconds: Double) { tokenizationHistogram.record(seconds) }

    func modelLoaded(seconds: Double, ok: Bool, models: Int) {
        modelLoadHistogram.record(seconds)
        registry.makeCounter(descriptor: Self.modelLoads, labels: [("result", ok ? "ok" : "failed")]).increment()
        modelsGauge.set(to: Double(models))
    }

    func models(_ count: Int) { modelsGauge.set(to: Double(count)) }

    /// Job counts by state (every state, zeros too), and the running job's progress (zeros when none runs).
    func jobs(byState counts: [String: Int], step: Int, loss: Double, examplesPerSecond: Double) {
        for (state, count) in counts {
            registry.makeGauge(descriptor: Self.jobs, labels: [("state", state)]).set(to: Double(count))
        }
        jobStepGauge.set(to: Double(step))
        jobLossGauge.set(to: loss.isFinite ? loss : 0)
        jobRateGauge.set(to: examplesPerSecond.isFinite ? examplesPerSecond : 0)
    }

    /// The Prometheus text format (version 0.0.4) of every metric, the process's memory read now.
    public func exposition() -> String {
        residentGauge.set(to: Double(Self.residentBytes()))
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
