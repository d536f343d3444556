import BertCore
import BertPipeline
import BertProtocol
import Foundation
import ZeroMQ

/// Events on the PUB socket, and what `models` and `status` (and the STATUS= line) report.
/// I/O thread only.
extension BertServer {
    /// Topic frame, then `{"event": topic, "time": ISO 8601, …fields}`. PUB drops the event for
    /// a subscriber that is too slow; clients that need the state ask for it (models, status).
    /// Also handed to the in-process listeners (`eventStreams`: the gateway's /v1/events).
    func publish(_ topic: EventTopic, _ fields: [(String, JSON)]) {
        let body = JSON.object([("event", .string(topic.rawValue)), ("time", .string(ISO8601DateFormatter().string(from: Date())))] + fields)
        eventStreams.publish(topic: topic.rawValue, json: body.text)
        guard let publisher else { return }
        try? publisher.send([Array(topic.rawValue.utf8), body.bytes], dontWait: true)
    }

    /// A model as `models` lists it. A linear baseline has no encoder: hidden size, layers and
    /// max_length 0 (any length), no zero-shot.
    func modelJSON(_ m: LoadedModel) -> JSON {
        let config = m.textModel?.model.config
        return .object([
            ("name", .string(m.name)), ("version", .int(m.version)), ("family", .string(m.family)),
            ("path", .string(m.path)), ("labels", .array(m.labels.map { .string($0) })),
            ("can_classify", .bool(m.canClassify)), ("zero_shot", .bool(m.textModel != nil)),
            ("parameters", .int(m.parameterCount)), ("hidden_size", .int(config?.hiddenSize ?? 0)),
            ("layers", .int(config?.numLayers ?? 0)), ("max_length", .int(m.textModel?.maxSequenceLength ?? 0)),
            ("loaded_at", .string(ISO8601DateFormatter().string(from: m.loadedAt))),
            ("scoring", .string(m.scoring.rawValue)), ("precision", .string(m.precision.rawValue)),
            ("long_documents", m.textModel?.longDocuments.map { d in
                .object([("window", .int(d.window)), ("stride", .int(d.overlap)), ("aggregate", .string(d.aggregation.rawValue))])
            } ?? .null),
        ])
    }

    func statusJSON(now: Double) -> JSON {
        let s = scheduler.snapshot
        let p = stats.percentiles([0.5, 0.9, 0.99])
        return .object([
            ("version", .string(Self.version)), ("protocol", .int(protocolVersion)),
            ("uptime_s", .number((now - startedAt).rounded())), ("threads", .int(ComputeThreads.current)),
            ("models", .int(registry.models.count)),
            ("model_precision", .object(registry.sortedModels.map { ($0.name, JSON.string($0.precision.rawValue)) })),
            ("queue", .object([("texts", .int(s.queuedItems)), ("tokens", .int(s.queuedTokens)), ("requests_in_flight", .int(pending.count))])),
            ("batches", .int(s.batches)), ("batched_texts", .int(s.batchedItems)), ("batched_tokens", .int(s.batchedTokens)),
            ("mean_batch_texts", .number(s.batches > 0 ? Double(s.batchedItems) / Double(s.batches) : 0)),
            ("requests", .int(stats.requests)), ("requests_per_s", .number(stats.requestsPerSecond(now: now, since: startedAt))),
            ("latency_ms", .object([("p50", .number(p[0])), ("p90", .number(p[1])), ("p99", .number(p[2]))])),
            ("errors", .object(stats.errorsByCode.sorted { $0.key < $1.key }.map { ($0.key, JSON.int($0.value)) })),
            ("expired", .int(s.expired)),
            ("abandoned", .object([("requests", .int(stats.abandonedRequests)), ("texts", .int(s.withdrawn))])),
            ("jobs", .object([("queued", .int(jobs.queuedCount)), ("running", jobs.running.map { .string($0.id) } ?? .null)])),
        ])
    }

    func statusLine(now: Double) -> String {
        let s = scheduler.snapshot
        let p = stats.percentiles([0.5, 0.99])
        var line = String(format: "%d models, queue %d texts/%d tokens, %.1f req/s, p50 %.1f ms, p99 %.1f ms",
                          registry.models.count, s.queuedItems, s.queuedTokens,
                          stats.requestsPerSecond(now: now, since: startedAt), p[0], p[1])
        if let job = jobs.running {
            line += "; training job \(job.id)"
            if let p = job.progress { line += String(format: " epoch %d/%d step %d/%d loss %.4f", p.epoch, p.epochs, p.step, p.totalSteps, p.loss) }
        }
        return line
    }
}
