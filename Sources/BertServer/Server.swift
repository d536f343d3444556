import BertCore
import BertPipeline
import BertProtocol
import Foundation
import ZeroMQ

/// The daemon: request endpoints (ROUTER), the events socket (PUB), the model registry and the
/// dynamic-batching scheduler, with systemd integration. A library type, so tests drive it
/// in-process; `bertd` is a thin executable around it.
///
/// Threads: `run()`'s caller is the I/O thread (sockets, parsing, tokenizing, replies); the
/// scheduler's compute thread runs batches on the compute pool; short-lived loader threads
/// read model directories. They meet only through the scheduler's queue and mailboxes.
public final class BertServer: @unchecked Sendable {
    public static let version = "0.1.0"

    private var configuration: ServerConfiguration
    private let reloadConfiguration: (() throws -> ServerConfiguration)?
    private let notifier: SystemdNotifier
    private let log: Logger

    private let control: ControlPipe
    private let completions: Mailbox<WorkItem>
    private let loads: Mailbox<LoadOutcome>
    private let scheduler: Scheduler
    private let registry: ModelRegistry
    private var handler: RequestHandler
    private var stats = ServerStats()
    private var pending: [ObjectIdentifier: PendingRequest] = [:]
    private var pendingLoads = 0
    /// Work was queued in this pass of the loop; the compute thread is woken once at its end.
    private var submittedSinceWake = false
    private var reloading = false
    private let startedAt = monotonicSeconds()
    private let ioHeartbeat = HeartbeatClock()

    private let readyLock = NSCondition()
    private var isReady = false
    private var bound: [String] = []
    private var startupError: Error?

    /// - Parameter reloadConfiguration: re-reads the configuration on reload (SIGHUP); nil keeps it.
    public init(configuration: ServerConfiguration, notifier: SystemdNotifier = SystemdNotifier(),
                log: Logger = Logger(level: .info), reloadConfiguration: (() throws -> ServerConfiguration)? = nil) throws {
        self.configuration = configuration
        self.notifier = notifier
        self.log = log
        self.reloadConfiguration = reloadConfiguration
        control = try ControlPipe()
        completions = Mailbox(pipe: control, signal: .completions)
        loads = Mailbox(pipe: control, signal: .loaded)
        registry = ModelRegistry(defaultName: configuration.defaultModel)
        handler = RequestHandler(limits: .init(maxTextsPerRequest: configuration.maxTextsPerRequest,
                                               maxTextBytes: configuration.maxTextBytes))
        let completions = self.completions
        let heartbeat = ioHeartbeat
        scheduler = Scheduler(limits: configuration.batchLimits, heartbeatInterval: 1.0,
                              heartbeat: { [notifier] in
                                  // The watchdog is fed only while both loops turn: a stuck I/O
                                  // thread must get the daemon restarted too.
                                  if heartbeat.age < 10 { notifier.watchdog() }
                              },
                              complete: { completions.post($0) })
    }

    // MARK: control from other threads (signals, tests)

    /// Asks the server to stop gracefully; `run()` returns when it has.
    public func requestStop() { control.post(.stop) }

    /// Asks the server to re-read its configuration and reload its models.
    public func requestReload() { control.post(.reload) }

    /// Blocks until the server is ready (models loaded, sockets bound) or failed to start.
    /// Returns the bound endpoints (tcp ports resolved), or nil on timeout/failure.
    public func waitUntilReady(timeout: TimeInterval) -> [String]? {
        readyLock.lock()
        defer { readyLock.unlock() }
        let until = Date(timeIntervalSinceNow: timeout)
        while !isReady && startupError == nil { if !readyLock.wait(until: until) { return nil } }
        return isReady ? bound : nil
    }

    // MARK: run

    /// Loads the models, binds the sockets, serves until stopped. Throws on start-up failure.
    public func run() throws {
        let context = try Context()
        var sockets: [Socket] = []
        var trackers: [ConnectionTracker] = []
        var publisher: Socket?
        var zap: ZAPHandler?
        do {
            try loadInitialModels()
            if configuration.endpoints.contains(where: \.curve) {
                zap = try ZAPHandler(context: context, authorizedKeys: try configuration.authorizedCurveKeys())
            }
            for endpoint in configuration.endpoints {
                let socket = try Socket(context, .router)
                try socket.setLinger(500)
                try socket.setRouterMandatory(true)
                // Up to a hard cap we read an oversized message and answer too_large (a clear
                // error beats a silent disconnect); past the cap libzmq drops the peer before
                // allocating anything, which bounds memory.
                try socket.setMaxMessageSize(Int64(max(configuration.maxMessageBytes * 4, 64 << 20)))
                try socket.setHighWaterMarks(send: 100_000, receive: 100_000)
                if endpoint.curve { try Curve.makeServer(socket, secretKey: try configuration.curveSecretKey()) }
                sockets.append(socket)
                // Monitored before it binds, so that no connection goes unseen.
                trackers.append(ConnectionTracker(monitor: try SocketMonitor(context, watching: socket)))
                try Self.prepareIPC(endpoint.address)
                try socket.bind(endpoint.address)
            }
            if !configuration.eventsEndpoint.isEmpty {
                let events = configuration.eventsEndpoint
                let pub = try Socket(context, .pub)
                try pub.setLinger(0)
                try pub.setHighWaterMarks(send: 10_000, receive: 10_000)
                try Self.prepareIPC(events)
                try pub.bind(events)
                publisher = pub
                self.publisher = pub
            }
        } catch {
            trackers.forEach { $0.monitor.close() }
            sockets.forEach { $0.close() }
            publisher?.close()
            zap?.stop()
            readyLock.lock(); startupError = error; readyLock.broadcast(); readyLock.unlock()
            throw error
        }

        ComputeThreads.set(configuration.threads > 0 ? configuration.threads : ComputeThreads.cores)
        scheduler.start()
        readyLock.lock()
        bound = sockets.map(\.lastEndpoint)
        isReady = true
        readyLock.broadcast()
        readyLock.unlock()
        log.notice("bertd \(Self.version) ready: \(bound.joined(separator: ", ")); models: \(registry.sortedModels.map { "\($0.name) (\($0.family))" }.joined(separator: ", "))")
        notifier.ready()

        serve(sockets: sockets, trackers: trackers, publisher: publisher)

        scheduler.stop()
        for item in completions.take() { finish(item, sockets: sockets) }
        failAllPending(ProtocolError(.unavailable, "bertd is shutting down"), sockets: sockets)
        trackers.forEach { $0.monitor.close() }
        sockets.forEach { $0.close() }
        publisher?.close()
        self.publisher = nil
        zap?.stop()
        log.notice("bertd stopped")
    }

    /// The poll loop; returns once a stop was requested and in-flight work drained (or the
    /// grace period ran out).
    private func serve(sockets: [Socket], trackers: [ConnectionTracker], publisher: Socket?) {
        var poller = Poller()
        for s in sockets { poller.add(.socket(s)) }
        let controlIndex = poller.add(.fd(control.readEnd))
        for t in trackers { poller.add(.socket(t.monitor.socket)) }  // disconnects wake the loop
        var stopping = false
        var stopDeadline = Double.infinity
        var lastStatus = 0.0
        let statusInterval = Double(configuration.statusIntervalMs) / 1000

        while true {
            ioHeartbeat.beat()
            let now = monotonicSeconds()
            if now - lastStatus >= statusInterval {
                notifier.status(statusLine(now: now))
                lastStatus = now
            }
            if stopping && (pending.isEmpty || now >= stopDeadline) { break }
            let ready: [Int]
            do {
                ready = try poller.poll(timeoutMs: 250)
            } catch {
                log.error("poll failed: \(error)")
                break
            }
            for index in ready where index < sockets.count {
                // Drain what is waiting, but bounded, so one busy socket cannot starve the rest.
                for _ in 0..<256 {
                    guard let message = try? sockets[index].receive(dontWait: true) else { break }
                    // The monitor is read after the message (see ConnectionTracker).
                    withdraw(trackers[index].update())
                    switch trackers[index].origin(of: message.sourceDescriptor) {
                    case .gone:
                        stats.recordAbandoned(requests: 1)
                    case .connection(let c):
                        handle(message, socketIndex: index, connection: c, sockets: sockets, stopping: stopping)
                    case .untracked:
                        handle(message, socketIndex: index, connection: nil, sockets: sockets, stopping: stopping)
                    }
                }
            }
            for tracker in trackers { withdraw(tracker.update()) }
            if submittedSinceWake {
                scheduler.wake()
                submittedSinceWake = false
            }
            if ready.contains(controlIndex) {
                let signals = control.drain()
                if signals.contains(.stop) && !stopping {
                    stopping = true
                    stopDeadline = monotonicSeconds() + Double(configuration.shutdownGraceMs) / 1000
                    notifier.stopping()
                    log.notice("stopping: \(pending.count) requests in flight, up to \(configuration.shutdownGraceMs) ms to finish them")
                }
                if signals.contains(.reload) && !stopping { beginReload(publisher: publisher) }
            }
            for item in completions.take() { finish(item, sockets: sockets) }
            for outcome in loads.take() { finishLoad(outcome, sockets: sockets, publisher: publisher) }
        }
    }

    /// Creates the directory of an ipc:// endpoint and removes a stale socket file left by a
    /// crashed process (binding would otherwise fail with EADDRINUSE).
    private static func prepareIPC(_ address: String) throws {
        guard address.hasPrefix("ipc://") else { return }
        let path = String(address.dropFirst("ipc://".count))
        guard !path.hasPrefix("@") else { return }  // abstract namespace
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        unlink(path)
    }

    // MARK: requests

    private func handle(_ message: Message, socketIndex: Int, connection: ConnectionTracker.Connection?,
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
            publish(.modelUnloaded, [("model", .string(model.name)), ("version", .int(model.version))])
            reply(Reply.success(id: request.id, result: .object([("unloaded", modelJSON(model))])))
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
    private func finish(_ item: WorkItem, sockets: [Socket]) {
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
    private func withdraw(_ departed: [ConnectionTracker.Connection]) {
        guard !departed.isEmpty, !pending.isEmpty else { return }
        let gone = Set(departed.map(ObjectIdentifier.init))
        let owners = Set(pending.compactMap { key, p in p.connection.map { gone.contains(ObjectIdentifier($0)) } == true ? key : nil })
        guard !owners.isEmpty else { return }
        let texts = scheduler.withdraw(owners: owners)
        for key in owners { pending[key] = nil }
        stats.recordAbandoned(requests: owners.count)
        log.debug("\(owners.count) requests abandoned by their clients; \(texts) queued texts withdrawn")
    }

    private func failAllPending(_ error: ProtocolError, sockets: [Socket]) {
        for p in pending.values {
            send(envelope: p.envelope, body: Reply.failure(id: p.request.id, error: error), socketIndex: p.socketIndex, sockets: sockets)
        }
        pending.removeAll()
    }

    /// Sends a reply; a peer that has gone away (or stopped reading) costs nothing: it is dropped.
    private func send(envelope: [[UInt8]], body: JSON, socketIndex: Int, sockets: [Socket]) {
        do {
            try sockets[socketIndex].send(envelope + [body.bytes], dontWait: true)
        } catch let error as ZMQError where error.isUnroutable || error.isWouldBlock {
            log.debug("reply dropped: the client is gone (\(error))")
        } catch {
            log.warning("reply failed: \(error)")
        }
    }

    // MARK: models

    private struct ReplyTarget {
        let id: JSON
        let envelope: [[UInt8]]
        let socketIndex: Int
    }

    private struct LoadOutcome {
        let name: String
        let path: String
        let result: Result<TextModel, Error>
        let reply: ReplyTarget?
    }

    private func loadInitialModels() throws {
        for entry in configuration.models {
            notifier.extendTimeout(seconds: 120)
            let started = monotonicSeconds()
            do {
                let model = registry.install(name: entry.name, path: entry.path, textModel: try ModelRegistry.load(name: entry.name, path: entry.path))
                log.info("loaded model \(entry.name) from \(entry.path) (\(model.family), \(model.parameterCount) parameters) in \(Int((monotonicSeconds() - started) * 1000)) ms")
            } catch {
                throw ServerError("cannot load model \"\(entry.name)\" from \(entry.path): \(error)")
            }
        }
    }

    /// Loads on a thread of its own; the I/O thread installs the result (hot: requests already
    /// queued finish on the previous version).
    private func startLoad(name: String, path: String, reply: ReplyTarget?) {
        pendingLoads += 1
        let mailbox = loads
        let thread = Thread {
            let result = Result { try ModelRegistry.load(name: name, path: path) }
            mailbox.post([LoadOutcome(name: name, path: path, result: result, reply: reply)])
        }
        thread.name = "bertd-load"
        thread.start()
    }

    private func finishLoad(_ outcome: LoadOutcome, sockets: [Socket], publisher: Socket?) {
        pendingLoads -= 1
        switch outcome.result {
        case .success(let textModel):
            let model = registry.install(name: outcome.name, path: outcome.path, textModel: textModel)
            log.notice("loaded model \(model.name) v\(model.version) from \(model.path)")
            publish(.modelLoaded, [("model", .string(model.name)), ("version", .int(model.version)), ("path", .string(model.path))])
            if let r = outcome.reply {
                send(envelope: r.envelope, body: Reply.success(id: r.id, result: .object([("loaded", modelJSON(model))])), socketIndex: r.socketIndex, sockets: sockets)
            }
        case .failure(let error):
            let message = (error as? BertError)?.message ?? "\(error)"
            log.warning("loading model \(outcome.name) from \(outcome.path) failed: \(message)")
            publish(.modelLoadFailed, [("model", .string(outcome.name)), ("path", .string(outcome.path)), ("message", .string(message))])
            if let r = outcome.reply {
                stats.record(error: ErrorCode.loadFailed.rawValue)
                send(envelope: r.envelope, body: Reply.failure(id: r.id, error: ProtocolError(.loadFailed, message)), socketIndex: r.socketIndex, sockets: sockets)
            }
        }
        if reloading && pendingLoads == 0 {
            reloading = false
            notifier.ready()
            log.notice("reload finished")
        }
    }

    private func beginReload(publisher: Socket?) {
        guard !reloading else { return }
        notifier.reloading()
        reloading = true
        if let reloadConfiguration {
            do {
                let fresh = try reloadConfiguration()
                if fresh.endpoints != configuration.endpoints || fresh.eventsEndpoint != configuration.eventsEndpoint {
                    log.warning("reload: endpoint changes take effect at the next restart")
                }
                let removed = Set(configuration.models.map(\.name)).subtracting(fresh.models.map(\.name))
                for name in removed {
                    if let model = registry.remove(name) {
                        publish(.modelUnloaded, [("model", .string(model.name)), ("version", .int(model.version))])
                    }
                }
                configuration = fresh
                registry.defaultName = fresh.defaultModel
                scheduler.update(limits: fresh.batchLimits)
                handler.limits = .init(maxTextsPerRequest: fresh.maxTextsPerRequest, maxTextBytes: fresh.maxTextBytes)
            } catch {
                log.error("reload: the configuration is invalid, keeping the running one: \(error)")
            }
        }
        log.notice("reloading \(configuration.models.count) models")
        for entry in configuration.models { startLoad(name: entry.name, path: entry.path, reply: nil) }
        if pendingLoads == 0 {
            reloading = false
            notifier.ready()
        }
    }

    // MARK: events and status

    /// The PUB socket (I/O thread only); nil when events are off.
    private var publisher: Socket?

    /// Topic frame, then `{"event": topic, "time": ISO 8601, …fields}`. PUB drops the event for
    /// a subscriber that is too slow; clients that need the state ask for it (models, status).
    private func publish(_ topic: EventTopic, _ fields: [(String, JSON)]) {
        guard let publisher else { return }
        let body = JSON.object([("event", .string(topic.rawValue)), ("time", .string(ISO8601DateFormatter().string(from: Date())))] + fields)
        try? publisher.send([Array(topic.rawValue.utf8), body.bytes], dontWait: true)
    }

    private func modelJSON(_ m: LoadedModel) -> JSON {
        let config = m.textModel.model.config
        return .object([
            ("name", .string(m.name)), ("version", .int(m.version)), ("family", .string(m.family)),
            ("path", .string(m.path)), ("labels", .array(m.labels.map { .string($0) })),
            ("can_classify", .bool(m.textModel.canClassify)), ("zero_shot", .bool(true)),
            ("parameters", .int(m.parameterCount)), ("hidden_size", .int(config.hiddenSize)),
            ("layers", .int(config.numLayers)), ("max_length", .int(m.textModel.maxSequenceLength)),
            ("loaded_at", .string(ISO8601DateFormatter().string(from: m.loadedAt))),
        ])
    }

    private func statusJSON(now: Double) -> JSON {
        let s = scheduler.snapshot
        let p = stats.percentiles([0.5, 0.9, 0.99])
        return .object([
            ("version", .string(Self.version)), ("protocol", .int(protocolVersion)),
            ("uptime_s", .number((now - startedAt).rounded())), ("threads", .int(ComputeThreads.current)),
            ("models", .int(registry.models.count)),
            ("queue", .object([("texts", .int(s.queuedItems)), ("tokens", .int(s.queuedTokens)), ("requests_in_flight", .int(pending.count))])),
            ("batches", .int(s.batches)), ("batched_texts", .int(s.batchedItems)), ("batched_tokens", .int(s.batchedTokens)),
            ("mean_batch_texts", .number(s.batches > 0 ? Double(s.batchedItems) / Double(s.batches) : 0)),
            ("requests", .int(stats.requests)), ("requests_per_s", .number(stats.requestsPerSecond(now: now, since: startedAt))),
            ("latency_ms", .object([("p50", .number(p[0])), ("p90", .number(p[1])), ("p99", .number(p[2]))])),
            ("errors", .object(stats.errorsByCode.sorted { $0.key < $1.key }.map { ($0.key, JSON.int($0.value)) })),
            ("expired", .int(s.expired)),
            ("abandoned", .object([("requests", .int(stats.abandonedRequests)), ("texts", .int(s.withdrawn))])),
        ])
    }

    private func statusLine(now: Double) -> String {
        let s = scheduler.snapshot
        let p = stats.percentiles([0.5, 0.99])
        return String(format: "%d models, queue %d texts/%d tokens, %.1f req/s, p50 %.1f ms, p99 %.1f ms",
                      registry.models.count, s.queuedItems, s.queuedTokens,
                      stats.requestsPerSecond(now: now, since: startedAt), p[0], p[1])
    }
}

/// A start-up failure of the server, with a message for the log.
public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// When the I/O loop last turned (read by the compute thread to decide on watchdog pings).
final class HeartbeatClock: @unchecked Sendable {
    private let lock = NSLock()
    private var last = monotonicSeconds()
    func beat() { lock.lock(); last = monotonicSeconds(); lock.unlock() }
    var age: Double { lock.lock(); defer { lock.unlock() }; return monotonicSeconds() - last }
}
