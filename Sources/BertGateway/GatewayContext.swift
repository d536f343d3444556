import BertServer
import Foundation
import Hummingbird
import NIOCore

/// The request context of the gateway's routes: Hummingbird's, plus the connection's channel,
/// so a request can learn that its client went away.
struct GatewayContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// One `ClientConnection` per HTTP connection, told to the server when the client closes its
/// side: texts still queued for its requests are then withdrawn, as for a ZeroMQ client that
/// left. Hummingbird neither cancels the handler nor closes the channel then (it allows half
/// closure and answers first), so `ClientCloseHandler` watches the pipeline for the client's
/// end of input.
final class HTTPConnections: @unchecked Sendable {
    private let lock = NSLock()
    private var open: [ObjectIdentifier: ClientConnection] = [:]
    private let server: BertServer

    init(server: BertServer) { self.server = server }

    func connection(of channel: any Channel) -> ClientConnection {
        let key = ObjectIdentifier(channel)
        lock.lock()
        if let known = open[key] { lock.unlock(); return known }
        let connection = ClientConnection()
        open[key] = connection
        lock.unlock()
        // The client may have closed before this request got here (it sent and hung up).
        if !channel.isActive || halfClosed(channel) { connection.isClosed = true }
        channel.closeFuture.whenComplete { [weak self] _ in self?.forget(channel) }
        return connection
    }

    /// The client closed its side: withdraw what it still has queued, and refuse the rest.
    func left(_ channel: any Channel) {
        lock.lock()
        let key = ObjectIdentifier(channel)
        let connection = open[key]
        inputClosed.insert(key)
        lock.unlock()
        if let connection {
            connection.isClosed = true
            server.clientLeft(connection)
        } else {
            // Not seen by a route yet: remember it until it closes (then its identifier is free).
            channel.closeFuture.whenComplete { [weak self] _ in self?.forget(channel) }
        }
    }

    /// The channel closed: withdraw, then drop what was known of it (its identifier may be
    /// reused by a new channel).
    private func forget(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        lock.lock()
        let connection = open.removeValue(forKey: key)
        inputClosed.remove(key)
        lock.unlock()
        if let connection {
            connection.isClosed = true
            server.clientLeft(connection)
        }
    }

    private var inputClosed = Set<ObjectIdentifier>()

    private func halfClosed(_ channel: any Channel) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return inputClosed.contains(ObjectIdentifier(channel))
    }
}

/// Tells `HTTPConnections` when a client closes its side of the connection (TCP FIN: curl
/// timing out, a browser tab closed), which Hummingbird sees only as a half-closure.
final class ClientCloseHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    private let connections: HTTPConnections

    init(connections: HTTPConnections) { self.connections = connections }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { connections.left(context.channel) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }
}
