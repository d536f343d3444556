import BertCore
import BertPipeline
import BertProtocol
import Foundation
import ZeroMQ

/// Requests: parse and dispatch a message, queue classify/embed work, answer when it is done,
/// withdraw the work of clients that left. I/O thread only.
extension BertServer {
    /// Where one request's reply goes (its ROUTER socket and envelope), with error accounting.
    struct Answer {
        let server: BertServer
        let envelope: [[UInt8]]
        let socketIndex: Int
        let sockets: [Socket]
        /// When the message arrived: a request's latency counts from here.
        let receivedAt: Double

        func success(_ id: JSON, _ result: JSON) {
            server.send(envelope: envelope, body: Reply.success(id: id, result: result), socketIndex: socketIndex, sockets: sockets)
        }

        func failure(_ id: JSON, _ error: ProtocolError) {
            server.stats.record(error: error.code.rawValue)
            server.send(envelope: envelope, body: Reply.failure(id: id, error: error), socketIndex: socketIndex, sockets: sockets)
        }

        /// Runs `body`; a thrown error is the reply (a ProtocolError as it is, others as `internal`).
        func catching(_ id: JSON, _ body: () throws -> Void) {
            do { try body() } catch {
                failure(id, error as? ProtocolError ?? ProtocolError(.internal, "\(error)"))
            }
        }
    }

    /// One message from a request socket: check its framing and size, parse it, check that its
    /// endpoint allows the operation, and dispatch it.
    func handle(_ message: Message, socketIndex: Int, connection: ConnectionTracker.Connection?,
                sockets: [Socket], stopping: Bool) {
        let now = monotonicSeconds()
        let envelope = Array(message.frames.dropLast())
        guard !envelope.isEmpty else { return }  // a ROUTER message always starts with the peer's identity
        let body = message.frames.last ?? []
        let answer = Answer(server: self, envelope: envelope, socketIndex: socketIndex, sockets: sockets, receivedAt: now)
        if message.truncated { return answer.failure(.null, ProtocolError(.badRequest, "too many frames in one message")) }
        if body.count > configuration.maxMessageBytes {
            return answer.failure(.null, ProtocolError(.tooLarge, "the message has \(body.count) bytes; the limit is \(configuration.maxMessageBytes)"))
        }
        let request: Request
        switch RequestParser.parse(body) {
        case .failure(let id, let error): return answer.failure(id, error)
        case .request(let r): request = r
        }
        let endpoint = configuration.endpoints[socketIndex]
        guard endpoint.allows(request.op) else {
            return answer.failure(request.id, ProtocolError(.forbidden, "\"\(request.op.rawValue)\" is not allowed on \(endpoint.address)"))
        }
        if stopping && request.op != .ping && request.op != .status {
            return answer.failure(request.id, ProtocolError(.unavailable, "bertd is shutting down"))
        }
        dispatch(request, connection: connection, answer: answer)
    }

    /// Runs one parsed, allowed request: answers at once, or queues its work.
    func dispatch(_ request: Request, connection: ConnectionTracker.Connection?, answer: Answer) {
        switch request.op {
        case .ping:
            answer.success(request.id, .object([("pong", .bool(true)), ("version", .string(Self.version))]))
        case .status:
            answer.success(request.id, statusJSON(now: answer.receivedAt))
        case .models:
            answer.success(request.id, .object([("default", .string(registry.defaultName)),
                                                ("models", .array(registry.sortedModels.map(modelJSON)))]))
        case .load:
            startLoad(name: request.name!, path: request.path!,
                      reply: .init(id: request.id, envelope: answer.envelope, socketIndex: answer.socketIndex))
        case .unload: unload(request, answer)
        case .train: answer.catching(request.id) { try submitJob(request, answer) }
        case .jobs: listJobs(request, answer)
        case .cancel: answer.catching(request.id) { try cancelJob(request, answer) }
        case .classify, .embed: answer.catching(request.id) { try queueInference(request, connection: connection, answer) }
        }
    }

    private func unload(_ request: Request, _ answer: Answer) {
        guard let model = registry.remove(request.name!) else {
            return answer.failure(request.id, ProtocolError(.unknownModel, "no model named \"\(request.name!)\""))
        }
        log.notice("unloaded model \(model.name) v\(model.version)")
        jobs.unserve(model.name)
        publish(.modelUnloaded, [("model", .string(model.name)), ("version", .int(model.version))])
        answer.success(request.id, .object([("unloaded", modelJSON(model))]))
    }

    private func submitJob(_ request: Request, _ answer: Answer) throws {
        let baseName = request.model ?? registry.defaultName
        guard let base = registry.resolve(baseName) else {
            throw ProtocolError(.unknownModel, "no model named \"\(baseName)\" to train from (loaded: \(loadedNames))")
        }
        let job = try jobs.submit(request.training!, base: base)
        log.notice("job \(job.id) queued: \(job.name) from \(base.name) on \(job.train)")
        publish(.jobQueued, [("job", .string(job.id)), ("name", .string(job.name)), ("model", .string(base.name))])
        answer.success(request.id, .object([("job", jobJSON(job))]))
    }

    private func listJobs(_ request: Request, _ answer: Answer) {
        guard let id = request.job else {
            return answer.success(request.id, .object([("jobs", .array(jobs.all.map(jobJSON)))]))
        }
        guard let job = jobs.jobs[id] else { return answer.failure(request.id, ProtocolError(.unknownJob, "no job \"\(id)\"")) }
        answer.success(request.id, .object([("job", jobJSON(job))]))
    }

    private func cancelJob(_ request: Request, _ answer: Answer) throws {
        let job = try jobs.cancel(request.job!)
        if job.state == .cancelled {
            log.notice("job \(job.id) cancelled before it started")
            publish(.jobCancelled, [("job", .string(job.id))])
        } else {
            log.notice("job \(job.id): cancel requested; it stops at its next step")
        }
        answer.success(request.id, .object([("job", jobJSON(job))]))
    }

    /// classify/embed: tokenize, then answer from the label cache or queue the texts.
    private func queueInference(_ request: Request, connection: ConnectionTracker.Connection?, _ answer: Answer) throws {
        guard let model = registry.resolve(request.model) else {
            throw ProtocolError(.unknownModel, "no model named \"\(request.model ?? registry.defaultName)\" (loaded: \(loadedNames))")
        }
        let (p, items) = try handler.prepare(request, model: model, envelope: answer.envelope, socketIndex: answer.socketIndex,
                                             connection: connection, now: answer.receivedAt)
        if items.isEmpty { return answer.success(request.id, try handler.result(of: p)) }
        guard scheduler.submit(items, wake: false) else {
            throw ProtocolError(.overloaded, "the queue is full (\(configuration.maxQueueTokens) tokens / \(configuration.maxQueueRequests) texts); retry later")
        }
        pending[ObjectIdentifier(p)] = p
        submittedSinceWake = true
    }

    private var loadedNames: String { registry.sortedModels.map(\.name).joined(separator: ", ") }

    /// A finished work item: store its output; reply when its request is complete.
    func finish(_ item: WorkItem, sockets: [Socket]) {
        guard let p = item.owner as? PendingRequest, pending[ObjectIdentifier(p)] != nil else { return }
        if let failure = item.failure, p.failure == nil {
            switch failure {
            case .deadlineExceeded: p.failure = ProtocolError(.deadlineExceeded, "the deadline of \(p.request.deadlineMs ?? 0) ms passed before the request was computed")
            case .shuttingDown: p.failure = ProtocolError(.unavailable, "bertd is shutting down")
            case .computeError(let message): p.failure = ProtocolError(.internal, message)
            }
        }
        p.outputs[item.slot] = item.output
        p.remaining -= 1
        guard p.remaining == 0 else { return }
        pending[ObjectIdentifier(p)] = nil
        let now = monotonicSeconds()
        do {
            let result = try handler.result(of: p)
            stats.record(latency: now - p.startedAt, at: now)
            send(envelope: p.envelope, body: Reply.success(id: p.request.id, result: result), socketIndex: p.socketIndex, sockets: sockets)
        } catch {
            let error = error as? ProtocolError ?? ProtocolError(.internal, "\(error)")
            stats.record(error: error.code.rawValue)
            send(envelope: p.envelope, body: Reply.failure(id: p.request.id, error: error), socketIndex: p.socketIndex, sockets: sockets)
        }
    }

    /// Work for clients that disconnected: queued texts are taken back unserved; texts already
    /// in the computing batch finish, and their results are dropped.
    func withdraw(_ departed: [ConnectionTracker.Connection]) {
        guard !departed.isEmpty, !pending.isEmpty else { return }
        let gone = Set(departed.map(ObjectIdentifier.init))
        let owners = Set(pending.compactMap { key, p in p.connection.map { gone.contains(ObjectIdentifier($0)) } == true ? key : nil })
        guard !owners.isEmpty else { return }
        let texts = scheduler.withdraw(owners: owners)
        for key in owners { pending[key] = nil }
        stats.recordAbandoned(requests: owners.count)
        log.debug("\(owners.count) requests abandoned by their clients; \(texts) queued texts withdrawn")
    }

    func failAllPending(_ error: ProtocolError, sockets: [Socket]) {
        for p in pending.values {
            send(envelope: p.envelope, body: Reply.failure(id: p.request.id, error: error), socketIndex: p.socketIndex, sockets: sockets)
        }
        pending.removeAll()
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
}
