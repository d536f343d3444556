import BertCore
import BertPipeline
import BertProtocol
import Foundation
import ZeroMQ

/// Requests: parse and dispatch a message, queue classify/embed work, answer when it is done,
/// withdraw the work of clients that left. I/O thread only.
extension BertServer {
    func handle(_ message: Message, socketIndex: Int, connection: ConnectionTracker.Connection?,
                sockets: [Socket], stopping: Bool) {
        let now = monotonicSeconds()
        let envelope = Array(message.frames.dropLast())
        guard !envelope.isEmpty else { return }  // a ROUTER message always starts with the peer's identity
        let body = message.frames.last ?? []
        let reply = { (json: JSON) in self.send(envelope: envelope, body: json, socketIndex: socketIndex, sockets: sockets) }
        let fail = { (id: JSON, error: ProtocolError) in
            self.stats.record(error: error.code.rawValue)
            reply(Reply.failure(id: id, error: error))
        }
        if message.truncated { return fail(.null, ProtocolError(.badRequest, "too many frames in one message")) }
        if body.count > configuration.maxMessageBytes {
            return fail(.null, ProtocolError(.tooLarge, "the message has \(body.count) bytes; the limit is \(configuration.maxMessageBytes)"))
        }
        let request: Request
        switch RequestParser.parse(body) {
        case .failure(let id, let error): return fail(id, error)
        case .request(let r): request = r
        }
        let endpoint = configuration.endpoints[socketIndex]
        guard endpoint.allows(request.op) else {
            return fail(request.id, ProtocolError(.forbidden, "\"\(request.op.rawValue)\" is not allowed on \(endpoint.address)"))
        }
        if stopping && request.op != .ping && request.op != .status {
            return fail(request.id, ProtocolError(.unavailable, "bertd is shutting down"))
        }
        switch request.op {
        case .ping:
            reply(Reply.success(id: request.id, result: .object([("pong", .bool(true)), ("version", .string(Self.version))])))
        case .status:
            reply(Reply.success(id: request.id, result: statusJSON(now: now)))
        case .models:
            reply(Reply.success(id: request.id, result: .object([
                ("default", .string(registry.defaultName)),
                ("models", .array(registry.sortedModels.map(modelJSON))),
            ])))
        case .load:
            startLoad(name: request.name!, path: request.path!, reply: .init(id: request.id, envelope: envelope, socketIndex: socketIndex))
        case .unload:
            guard let model = registry.remove(request.name!) else {
                return fail(request.id, ProtocolError(.unknownModel, "no model named \"\(request.name!)\""))
            }
            log.notice("unloaded model \(model.name) v\(model.version)")
            jobs.unserve(model.name)
            publish(.modelUnloaded, [("model", .string(model.name)), ("version", .int(model.version))])
            reply(Reply.success(id: request.id, result: .object([("unloaded", modelJSON(model))])))
        case .train:
            let training = request.training!
            let baseName = request.model ?? registry.defaultName
            guard let base = registry.resolve(baseName) else {
                return fail(request.id, ProtocolError(.unknownModel, "no model named \"\(baseName)\" to train from (loaded: \(registry.sortedModels.map(\.name).joined(separator: ", ")))"))
            }
            do {
                let job = try jobs.submit(training, base: base)
                log.notice("job \(job.id) queued: \(job.name) from \(base.name) on \(job.train)")
                publish(.jobQueued, [("job", .string(job.id)), ("name", .string(job.name)), ("model", .string(base.name))])
                reply(Reply.success(id: request.id, result: .object([("job", jobJSON(job))])))
            } catch let error as ProtocolError {
                fail(request.id, error)
            } catch {
                fail(request.id, ProtocolError(.internal, "\(error)"))
            }
        case .jobs:
            if let id = request.job {
                guard let job = jobs.jobs[id] else { return fail(request.id, ProtocolError(.unknownJob, "no job \"\(id)\"")) }
                return reply(Reply.success(id: request.id, result: .object([("job", jobJSON(job))])))
            }
            reply(Reply.success(id: request.id, result: .object([("jobs", .array(jobs.all.map(jobJSON)))])))
        case .cancel:
            do {
                let job = try jobs.cancel(request.job!)
                if job.state == .cancelled {
                    log.notice("job \(job.id) cancelled before it started")
                    publish(.jobCancelled, [("job", .string(job.id))])
                } else {
                    log.notice("job \(job.id): cancel requested; it stops at its next step")
                }
                reply(Reply.success(id: request.id, result: .object([("job", jobJSON(job))])))
            } catch let error as ProtocolError {
                fail(request.id, error)
            } catch {
                fail(request.id, ProtocolError(.internal, "\(error)"))
            }
        case .classify, .embed:
            guard let model = registry.resolve(request.model) else {
                return fail(request.id, ProtocolError(.unknownModel, "no model named \"\(request.model ?? registry.defaultName)\" (loaded: \(registry.sortedModels.map(\.name).joined(separator: ", ")))"))
            }
            do {
                let (p, items) = try handler.prepare(request, model: model, envelope: envelope, socketIndex: socketIndex,
                                                     connection: connection, now: now)
                if items.isEmpty {
                    return reply(Reply.success(id: request.id, result: try handler.result(of: p)))
                }
                guard scheduler.submit(items, wake: false) else {
                    return fail(request.id, ProtocolError(.overloaded, "the queue is full (\(configuration.maxQueueTokens) tokens / \(configuration.maxQueueRequests) texts); retry later"))
                }
                pending[ObjectIdentifier(p)] = p
                submittedSinceWake = true
            } catch let error as ProtocolError {
                fail(request.id, error)
            } catch {
                fail(request.id, ProtocolError(.internal, "\(error)"))
            }
        }
    }

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
