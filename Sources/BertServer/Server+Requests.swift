import BertCore
import BertPipeline
import BertProtocol
import Foundation
import ZeroMQ

/// Requests, whatever their transport: `dispatch(request, origin)` checks that the listener
/// allows the operation and runs it — answering at once, or queueing its texts and answering
/// when they are computed — and work of clients that left is withdrawn. ZeroMQ messages come in
/// through `handle`. I/O thread only.
extension BertServer {
    // MARK: ZeroMQ

    /// One message from a request socket: check its framing and size, parse it, dispatch it.
    func handle(_ message: Message, socketIndex: Int, connection: ClientConnection?, sockets: [Socket]) {
        let now = monotonicSeconds()
        let envelope = Array(message.frames.dropLast())
        guard !envelope.isEmpty else { return }  // a ROUTER message always starts with the peer's identity
        let body = message.frames.last ?? []
        let endpoint = configuration.endpoints[socketIndex]
        let origin = Origin(listener: endpoint.address, transport: "zeromq", allows: endpoint.allows, connection: connection,
                            receivedAt: now, deliver: { [unowned self] reply in
                                self.send(envelope: envelope, body: reply, socketIndex: socketIndex, sockets: sockets)
                            })
        let unparsed = origin.counted(op: "unknown", in: metrics)
        if message.truncated { return fail(unparsed, .null, ProtocolError(.badRequest, "too many frames in one message")) }
        if body.count > configuration.maxMessageBytes {
            return fail(unparsed, .null, ProtocolError(.tooLarge, "the message has \(body.count) bytes; the limit is \(configuration.maxMessageBytes)"))
        }
        switch RequestParser.parse(body) {
        case .failure(let id, let error): fail(unparsed, id, error)
        case .request(let request): dispatch(request, origin)
        }
    }

    /// Sends a reply; a peer that has gone away (or stopped reading) costs nothing: it is dropped.
    func send(envelope: [[UInt8]], body: JSON, socketIndex: Int, sockets: [Socket]) {
        do {
            try sockets[socketIndex].send(envelope + [body.bytes], dontWait: true)
        } catch let error as ZMQError where error.isUnroutable || error.isWouldBlock {
            log.debug("reply dropped: the client is gone (\(error))")
        } catch {
            log.warning("reply failed: \(error)")
        }
    }

    // MARK: other transports

    /// The origin of a request from another transport: its listener serves the public
    /// operations, or (admin) all of them.
    func origin(of r: ForeignRequest) -> Origin {
        Origin(listener: r.listener, transport: r.transport, allows: { r.admin || !$0.isAdmin }, connection: r.connection,
               receivedAt: r.receivedAt, deliver: r.deliver)
    }

    // MARK: any transport

    func succeed(_ origin: Origin, _ id: JSON, _ result: JSON) {
        origin.deliver(Reply.success(id: id, result: result))
    }

    func fail(_ origin: Origin, _ id: JSON, _ error: ProtocolError) {
        stats.record(error: error.code.rawValue)
        origin.deliver(Reply.failure(id: id, error: error))
    }

    /// The one entry point of every parsed request, from any transport.
    func dispatch(_ request: Request, _ uncounted: Origin) {
        let origin = uncounted.counted(op: request.op.rawValue, in: metrics)
        guard origin.allows(request.op) else {
            return fail(origin, request.id, ProtocolError(.forbidden, "\"\(request.op.rawValue)\" is not allowed on \(origin.listener)"))
        }
        if isStopping && request.op != .ping && request.op != .status {
            return fail(origin, request.id, ProtocolError(.unavailable, "bertd is shutting down"))
        }
        let id = request.id
        do {
            switch request.operation {
            case .ping: succeed(origin, id, .object([("pong", .bool(true)), ("version", .string(Self.version))]))
            case .status: succeed(origin, id, statusJSON(now: origin.receivedAt))
            case .models: succeed(origin, id, modelsJSON())
            case .load(let name, let path, let precision, let force, let longDocuments):
                _ = try longDocuments?.aggregation()  // an unknown aggregation is the request's fault, not the load's
                // The parser admitted only Precision's raw values.
                startLoad(.init(name: name, path: path, precision: precision.flatMap(Precision.init(rawValue:)) ?? .fp32, force: force,
                                longDocuments: longDocuments),
                          reply: ReplyTarget(id: id, origin: origin))
            case .unload(let name): try unload(name, id, origin)
            case .train(let training): try submitJob(training, id, origin)
            case .jobs(let job): try listJobs(job, id, origin)
            case .cancel(let job): try cancelJob(job, id, origin)
            case .classify(let inference), .embed(let inference): try queueInference(inference, request, origin)
            case .explain(let explanation): try queueExplanation(explanation, request, origin)
            }
        } catch {
            fail(origin, id, error as? ProtocolError ?? ProtocolError(.internal, "\(error)"))
        }
    }

    func modelsJSON() -> JSON {
        .object([("default", .string(registry.defaultName)), ("models", .array(registry.sortedModels.map(modelJSON)))])
    }

    private func unload(_ name: String, _ id: JSON, _ origin: Origin) throws {
        guard let model = registry.remove(name) else { throw ProtocolError(.unknownModel, "no model named \"\(name)\"") }
        log.notice("unloaded model \(model.name) v\(model.version)")
        metrics.models(registry.models.count)
        jobs.unserve(model.name)
        publish(.modelUnloaded, [("model", .string(model.name)), ("version", .int(model.version))])
        succeed(origin, id, .object([("unloaded", modelJSON(model))]))
    }

    private func submitJob(_ training: TrainingRequest, _ id: JSON, _ origin: Origin) throws {
        let baseName = training.baseModel ?? registry.defaultName
        guard let base = registry.resolve(baseName) else {
            throw ProtocolError(.unknownModel, "no model named \"\(baseName)\" to train from (loaded: \(loadedNames))")
        }
        let job = try jobs.submit(training, base: base)
        log.notice("job \(job.id) queued: \(job.name) from \(base.name) on \(job.train)")
        publish(.jobQueued, [("job", .string(job.id)), ("name", .string(job.name)), ("model", .string(base.name))])
        succeed(origin, id, .object([("job", jobJSON(job))]))
    }

    private func listJobs(_ job: String?, _ id: JSON, _ origin: Origin) throws {
        guard let job else { return succeed(origin, id, .object([("jobs", .array(jobs.all.map(jobJSON)))])) }
        guard let record = jobs.jobs[job] else { throw ProtocolError(.unknownJob, "no job \"\(job)\"") }
        succeed(origin, id, .object([("job", jobJSON(record))]))
    }

    private func cancelJob(_ jobID: String, _ id: JSON, _ origin: Origin) throws {
        let job = try jobs.cancel(jobID)
        if job.state == .cancelled {
            log.notice("job \(job.id) cancelled before it started")
            publish(.jobCancelled, [("job", .string(job.id))])
        } else {
            log.notice("job \(job.id): cancel requested; it stops at its next step")
        }
        succeed(origin, id, .object([("job", jobJSON(job))]))
    }

    /// classify/embed: tokenize, then answer from the label cache or queue the texts.
    private func queueInference(_ inference: Inference, _ request: Request, _ origin: Origin) throws {
        guard let model = registry.resolve(inference.model) else {
            throw ProtocolError(.unknownModel, "no model named \"\(inference.model ?? registry.defaultName)\" (loaded: \(loadedNames))")
        }
        let tokenizing = monotonicSeconds()
        let (p, items) = try handler.prepare(id: request.id, op: request.op, inference, model: model, origin: origin)
        metrics.tokenized(seconds: monotonicSeconds() - tokenizing)
        if items.isEmpty { return succeed(origin, request.id, try handler.result(of: p)) }
        guard scheduler.submit(items, wake: false) else {
            throw ProtocolError(.overloaded, "the queue is full (\(configuration.maxQueueTokens) tokens / \(configuration.maxQueueRequests) texts); retry later")
        }
        pending[ObjectIdentifier(p)] = p
        submittedSinceWake = true
    }

    /// explain: validate and tokenize, then queue one work item per text. An explanation larger
    /// than the whole queue could ever hold is too_large; one that does not fit now, overloaded.
    private func queueExplanation(_ explanation: ExplainRequest, _ request: Request, _ origin: Origin) throws {
        guard let model = registry.resolve(explanation.inference.model) else {
            throw ProtocolError(.unknownModel, "no model named \"\(explanation.inference.model ?? registry.defaultName)\" (loaded: \(loadedNames))")
        }
        let (p, items) = try handler.prepareExplanation(id: request.id, explanation, model: model, origin: origin)
        let tokens = items.reduce(0) { $0 + $1.tokenCount }
        guard tokens <= configuration.maxQueueTokens else {
            throw ProtocolError(.tooLarge, "the explanation is \(tokens) tokens of work (interpolation points × tokens per text, candidate labels included); the queue holds \(configuration.maxQueueTokens): use fewer steps, texts or labels")
        }
        guard scheduler.submit(items, wake: false) else {
            throw ProtocolError(.overloaded, "the queue is full (\(configuration.maxQueueTokens) tokens / \(configuration.maxQueueRequests) texts); retry later")
        }
        pending[ObjectIdentifier(p)] = p
        submittedSinceWake = true
    }

    private var loadedNames: String { registry.sortedModels.map(\.name).joined(separator: ", ") }

    /// A finished work item: store its output; reply when its request is complete.
    func finish(_ item: WorkItem) {
        guard let p = item.owner as? PendingRequest, pending[ObjectIdentifier(p)] != nil else { return }
        if let failure = item.failure, p.failure == nil {
            switch failure {
            case .deadlineExceeded: p.failure = ProtocolError(.deadlineExceeded, "the deadline of \(p.inference.deadlineMs ?? 0) ms passed before the request was computed")
            case .shuttingDown: p.failure = ProtocolError(.unavailable, "bertd is shutting down")
            case .computeError(let message): p.failure = ProtocolError(.internal, message)
            }
        }
        p.outputs[item.slot] = item.output
        if p.explanation != nil {
            p.attributions[item.slot] = item.attributions
            p.maps[item.slot] = item.maps
        }
        p.remaining -= 1
        guard p.remaining == 0 else { return }
        pending[ObjectIdentifier(p)] = nil
        let now = monotonicSeconds()
        do {
            let result = try handler.result(of: p)
            stats.record(latency: now - p.startedAt, at: now)
            succeed(p.origin, p.id, result)
        } catch {
            fail(p.origin, p.id, error as? ProtocolError ?? ProtocolError(.internal, "\(error)"))
        }
    }

    /// Work for clients that disconnected: queued texts are taken back unserved; texts already
    /// in the computing batch finish, and their results are dropped.
    func withdraw(_ departed: [ClientConnection]) {
        guard !departed.isEmpty, !pending.isEmpty else { return }
        let gone = Set(departed.map(ObjectIdentifier.init))
        let owners = Set(pending.compactMap { key, p in p.origin.connection.map { gone.contains(ObjectIdentifier($0)) } == true ? key : nil })
        guard !owners.isEmpty else { return }
        let texts = scheduler.withdraw(owners: owners)
        for key in owners {
            // Answered all the same (a transport may be waiting for it); the client is gone, so
            // for ZeroMQ the reply is dropped.
            if let p = pending.removeValue(forKey: key) {
                p.origin.deliver(Reply.failure(id: p.id, error: ProtocolError(.unavailable, "the client closed its connection")))
            }
        }
        stats.recordAbandoned(requests: owners.count)
        log.debug("\(owners.count) requests abandoned by their clients; \(texts) queued texts withdrawn")
    }

    func failAllPending(_ error: ProtocolError) {
        for p in pending.values { p.origin.deliver(Reply.failure(id: p.id, error: error)) }
        pending.removeAll()
    }
}
