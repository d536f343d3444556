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
    public static let version = bertdVersion

    var configuration: ServerConfiguration
    let reloadConfiguration: (() throws -> ServerConfiguration)?
    let notifier: SystemdNotifier
    let log: Logger

    private let control: ControlPipe
    private let completions: Mailbox<WorkItem>
    let loads: Mailbox<LoadOutcome>
    let jobEvents: Mailbox<JobEvent>
    private let foreign: Mailbox<ForeignItem>
    let scheduler: Scheduler
    var jobs: JobManager!
    let registry: ModelRegistry
    var handler: RequestHandler
    var stats = ServerStats()
    /// The Prometheus metrics (`/metrics` on the HTTP gateway).
    public let metrics = ServerMetrics(version: bertdVersion)
    /// The events, for listeners in this process (the gateway's Server-Sent Events).
    public let eventStreams = EventStreams()
    var pending: [ObjectIdentifier: PendingRequest] = [:]
    var pendingLoads = 0
    /// Work was queued in this pass of the loop; the compute thread is woken once at its end.
    var submittedSinceWake = false
    var reloading = false
    /// A stop was asked for: only ping and status are served while in-flight work drains.
    var isStopping = false
    /// The PUB socket (I/O thread only); nil when events are off.
    var publisher: Socket?
    let startedAt = monotonicSeconds()
    private let ioHeartbeat = HeartbeatClock()

    private let readyLock = NSCondition()
    private var isReady = false
    private var readinessState = Readiness.starting
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
        jobEvents = Mailbox(pipe: control, signal: .jobs)
        foreign = Mailbox(pipe: control, signal: .foreign)
        registry = ModelRegistry(defaultName: configuration.defaultModel)
        handler = RequestHandler(limits: .init(maxTextsPerRequest: configuration.maxTextsPerRequest,
                                               maxTextBytes: configuration.maxTextBytes))
        let completions = self.completions
        let heartbeat = ioHeartbeat
        let metrics = self.metrics
        scheduler = Scheduler(limits: configuration.batchLimits, heartbeatInterval: 1.0,
                              heartbeat: { [notifier] in
                                  // The watchdog is fed only while both loops turn: a stuck I/O
                                  // thread must get the daemon restarted too.
                                  if heartbeat.age < 10 { notifier.watchdog() }
                              },
                              complete: { completions.post($0) },
                              batchDone: { metrics.batch(texts: $0.texts, tokens: $0.tokens, seconds: $0.seconds, waits: $0.waits) })
        jobs = JobManager(stateDirectory: configuration.stateDirectory, scheduler: scheduler, events: jobEvents)
    }

    // MARK: control from other threads (signals, tests)

    /// Asks the server to stop gracefully; `run()` returns when it has.
    public func requestStop() { control.post(.stop) }

    /// Asks the server to re-read its configuration and reload its models.
    public func requestReload() { control.post(.reload) }

    /// Hands a request from another transport (the HTTP gateway) to the I/O thread, which checks
    /// and dispatches it like a ZeroMQ request; `deliver` gets the reply. Any thread. After the
    /// server has stopped, the reply is `unavailable` at once.
    public func submit(_ request: ForeignRequest) {
        if !foreign.post([.request(request)]) {
            request.deliver(Reply.failure(id: request.request.id, error: ProtocolError(.unavailable, "bertd has stopped")))
        }
    }

    /// The client of a foreign request closed its connection: its queued texts are withdrawn.
    public func clientLeft(_ connection: ClientConnection) { foreign.post([.left(connection)]) }

    /// What a readiness probe says: whether the server takes work now, and why not.
    public enum Readiness: String, Sendable {
        case starting, ready, reloading, stopping, stopped
    }

    public var readiness: Readiness {
        readyLock.lock()
        defer { readyLock.unlock() }
        return readinessState
    }

    func setReadiness(_ state: Readiness) {
        readyLock.lock()
        readinessState = state
        readyLock.unlock()
    }

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
        for note in jobs.restore() { log.notice(note) }
        loadJobModels()
        readyLock.lock()
        bound = sockets.map(\.lastEndpoint)
        isReady = true
        readinessState = .ready
        readyLock.broadcast()
        readyLock.unlock()
        log.notice("bertd \(Self.version) ready: \(bound.joined(separator: ", ")); models: \(registry.sortedModels.map { "\($0.name) (\($0.family))" }.joined(separator: ", "))")
        notifier.ready()

        serve(sockets: sockets, trackers: trackers, publisher: publisher)

        scheduler.stop()  // a running job stops at its next step, with a resume point
        for item in completions.take() { finish(item) }
        for event in jobEvents.take() { record(event) }
        failAllPending(ProtocolError(.unavailable, "bertd is shutting down"))
        for case .request(let late) in foreign.close() {
            late.deliver(Reply.failure(id: late.request.id, error: ProtocolError(.unavailable, "bertd is shutting down")))
        }
        setReadiness(.stopped)
        eventStreams.finishAll()  // open event streams end, so the gateway can close
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
            if isStopping && (pending.isEmpty || now >= stopDeadline) { break }
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
                    switch trackers[index].source(of: message.sourceDescriptor) {
                    case .gone:
                        stats.recordAbandoned(requests: 1)
                    case .connection(let c):
                        handle(message, socketIndex: index, connection: c, sockets: sockets)
                    case .untracked:
                        handle(message, socketIndex: index, connection: nil, sockets: sockets)
                    }
                }
            }
            for tracker in trackers { withdraw(tracker.update()) }
            // Requests from the HTTP gateway, dispatched like those just read (and batched with them).
            for item in foreign.take() {
                switch item {
                case .request(let r) where r.connection?.isClosed == true:
                    // Its client left before the request got here: nothing to compute.
                    stats.recordAbandoned(requests: 1)
                    r.deliver(Reply.failure(id: r.request.id, error: ProtocolError(.unavailable, "the client closed its connection")))
                case .request(let r): dispatch(r.request, origin(of: r))
                case .left(let connection): withdraw([connection])
                }
            }
            if submittedSinceWake {
                scheduler.wake()
                submittedSinceWake = false
            }
            if ready.contains(controlIndex) {
                let signals = control.drain()
                if signals.contains(.stop) && !isStopping {
                    isStopping = true
                    setReadiness(.stopping)
                    stopDeadline = monotonicSeconds() + Double(configuration.shutdownGraceMs) / 1000
                    notifier.stopping()
                    log.notice("stopping: \(pending.count) requests in flight, up to \(configuration.shutdownGraceMs) ms to finish them")
                }
                if signals.contains(.reload) && !isStopping { beginReload(publisher: publisher) }
            }
            for item in completions.take() { finish(item) }
            let queue = scheduler.snapshot
            metrics.queue(texts: queue.queuedItems, tokens: queue.queuedTokens, inFlight: pending.count)
            for outcome in loads.take() { finishLoad(outcome, publisher: publisher) }
            for event in jobEvents.take() { record(event) }
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

}

/// A start-up failure of the server, with a message for the log.
public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// When the I/O loop last turned (read by the compute thread to decide on watchdog pings).
final class HeartbeatClock: @unchecked Sendable {
    private let lock = NSLock()
    private var last = monotonicSeconds()
    func beat() { lock.lock(); last = monotonicSeconds(); lock.unlock() }
    var age: Double { lock.lock(); defer { lock.unlock() }; return monotonicSeconds() - last }
}
