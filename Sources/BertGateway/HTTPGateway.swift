import BertServer
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// bertd's HTTP listeners (`[http]`): the public one and the admin one, each a Hummingbird
/// application on one event-loop thread of the gateway's own, so the compute pool's cores stay
/// with compute. The routes only parse, wait and reply; tokenizing and batching happen in the
/// server, as for ZeroMQ.
///
///     let gateway = try HTTPGateway(server: server, configuration: configuration)
///     let bound = try gateway.start()   // ["http://127.0.0.1:8080", "/run/bertd/http.sock"]
///     …
///     gateway.stop()
public final class HTTPGateway: @unchecked Sendable {
    private let server: BertServer
    private let listeners: [(address: HTTPListenAddress, kind: ListenerKind)]

    /// What a listener serves.
    public enum ListenerKind: String, Sendable {
        /// The public routes (no admin operations).
        case `public`
        /// Every route.
        case admin
        /// `[metrics] address`: /metrics, /healthz and /readyz only.
        case metrics
    }
    private let configuration: DaemonConfiguration
    private let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// One service group per listener: a graceful shutdown lets answers in flight be written.
    private var groups: [ServiceGroup] = []
    private var tasks: [Task<Void, Error>] = []
    private let connections: HTTPConnections
    /// Each listener's bearer tokens (nil: open), in the order of `listeners`.
    private let tokens: [BearerTokens?]

    /// nil when both `[http] address` and `[metrics] address` are empty (no HTTP at all).
    public init?(server: BertServer, configuration: DaemonConfiguration) throws {
        var wanted: [(String, ListenerKind, String?)] = []
        if !configuration.httpAddress.isEmpty {
            wanted.append((configuration.httpAddress, .public, configuration.httpTokensFile))
            wanted.append((configuration.httpAdminAddress, .admin, configuration.httpAdminTokensFile))
        }
        if !configuration.metricsAddress.isEmpty { wanted.append((configuration.metricsAddress, .metrics, nil)) }
        guard !wanted.isEmpty else { return nil }
        self.server = server
        self.configuration = configuration
        connections = HTTPConnections(server: server)
        tokens = try wanted.map { _, _, file in try file.map { try BearerTokens(file: $0) } }
        listeners = try wanted.map { text, kind, _ in
            switch HTTPListenAddress.parse(text) {
            case .success(let address): return (address, kind)
            case .failure(let problem): throw ServerError(problem.message)
            }
        }
    }

    /// Binds the listeners and serves in the background; returns what each bound (a tcp port `*`
    /// resolved). Throws when one cannot bind.
    public func start() throws -> [(kind: ListenerKind, address: String)] {
        var bound: [(ListenerKind, String)] = []
        for (index, (address, kind)) in listeners.enumerated() {
            let admin = kind == .admin
            if case .unix(let path) = address {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                unlink(path)  // a stale socket file left by a crashed process
            }
            let started = BoundAddress()
            let name = kind.rawValue
            let connections = self.connections
            let headerTimeout = configuration.httpHeaderTimeoutMs
            let routes = GatewayRoutes(call: GatewayCall(server: server, listener: "the HTTP \(name) listener", admin: admin),
                                       server: server, connections: connections, maxBodyBytes: configuration.httpMaxBodyBytes,
                                       tokens: tokens[index], metricsOnly: kind == .metrics)
            var logger = Logger(label: "bertd-http-\(name)")
            logger.logLevel = .critical  // bertd logs its own lines; Hummingbird's per-request logs would flood the journal
            let app = Application(
                router: routes.router(),
                server: .http1(configuration: .init(
                    additionalChannelHandlers: [ClientCloseHandler(connections: connections),
                                                HeaderDeadlineHandler(deadline: .milliseconds(Int64(headerTimeout)))],
                    idleTimeout: .milliseconds(Int64(configuration.httpIdleTimeoutMs)))),
                configuration: .init(address: Self.bindAddress(address), serverName: "bertd",
                                     availableConnectionsDelegate: MaximumAvailableConnections(configuration.httpMaxConnections)),
                onServerRunning: { channel in started.set(channel.localAddress.map { Self.describe($0, for: address) } ?? "\(address)") },
                eventLoopGroupProvider: .shared(eventLoops),
                logger: logger)
            let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
            groups.append(group)
            tasks.append(Task { try await group.run() })
            guard let address = started.wait(seconds: 10) else {
                stop()
                throw ServerError("the HTTP \(name) listener could not bind \(address)")
            }
            bound.append((kind, address))
        }
        return bound
    }

    /// Re-reads the token files (SIGHUP); a file that cannot be read leaves its tokens as they were.
    public func reloadTokens() -> [String] {
        var problems: [String] = []
        for case let set? in tokens {
            do { try set.reload() } catch { problems.append("\(error)") }
        }
        return problems
    }

    /// Stops accepting, lets the answers in flight be written (at most `seconds`), and closes
    /// the listeners. Call it after `BertServer.run` returned: by then every request has its
    /// answer, so nothing is cut off.
    public func stop(seconds: Double = 5) {
        let (groups, tasks) = (self.groups, self.tasks)
        self.groups.removeAll()
        self.tasks.removeAll()
        guard !tasks.isEmpty else { return }
        let done = DispatchSemaphore(value: 0)
        Task {
            for group in groups { await group.triggerGracefulShutdown() }
            for task in tasks { _ = try? await task.value }
            done.signal()
        }
        if done.wait(timeout: .now() + seconds) == .timedOut {
            for task in tasks { task.cancel() }
        }
    }

    private static func bindAddress(_ address: HTTPListenAddress) -> BindAddress {
        switch address {
        case .tcp(let host, let port): return .hostname(host, port: port)
        case .unix(let path): return .unixDomainSocket(path: path)
        }
    }

    private static func describe(_ socket: SocketAddress, for address: HTTPListenAddress) -> String {
        switch address {
        case .unix(let path): return path
        case .tcp(let host, _):
            let port = socket.port ?? 0
            return host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
        }
    }
}

/// The address a listener bound, handed from its event loop to `start()`.
private final class BoundAddress: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: String?

    func set(_ address: String) {
        condition.lock()
        value = address
        condition.broadcast()
        condition.unlock()
    }

    func wait(seconds: Double) -> String? {
        condition.lock()
        defer { condition.unlock() }
        let until = Date(timeIntervalSinceNow: seconds)
        while value == nil { if !condition.wait(until: until) { break } }
        return value
    }
}
