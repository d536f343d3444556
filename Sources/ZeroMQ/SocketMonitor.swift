import CZeroMQ
import Foundation

/// The connection events of a socket (zmq_socket_monitor), read without blocking.
///
/// libzmq publishes them on an inproc PAIR socket; ours is connected with an unlimited
/// receive high-water mark, so no event is ever dropped, and events arrive in the order the
/// connections saw them. A connection's `accepted` is queued before any message it sends can
/// be read, and its `disconnected` before its descriptor can be reused.
public final class SocketMonitor {
    public enum Kind: Sendable, Equatable {
        case accepted
        case disconnected
        case other(UInt16)
    }

    public struct Event: Sendable, Equatable {
        public let kind: Kind
        /// For accepted/disconnected: the connection's file descriptor.
        public let descriptor: Int32
        public let address: String
    }

    /// The PAIR socket the events arrive on (poll it for input).
    public let socket: Socket
    private static let counter = Counter()

    /// Starts monitoring `target` for accepted and disconnected connections. Call before the
    /// socket binds, so that no connection is missed.
    public init(_ context: Context, watching target: Socket) throws {
        let address = "inproc://bertd-monitor-\(Self.counter.next())"
        let events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED
        guard zmq_socket_monitor(target.handle, address, events) == 0 else { throw ZMQError.last("zmq_socket_monitor") }
        self.socket = try Socket(context, .pair)
        try socket.setLinger(0)
        try socket.set(ZMQ_RCVHWM, Int32(0))  // unlimited: a lost `accepted` would misattribute a connection
        try socket.connect(address)
    }

    /// The next queued event, or nil when none is waiting.
    public func next() -> Event? {
        guard let message = try? socket.receive(dontWait: true), message.frames.count == 2,
              message.frames[0].count >= 6 else { return nil }
        let head = message.frames[0]
        let kind = UInt16(head[0]) | UInt16(head[1]) << 8
        let value = UInt32(head[2]) | UInt32(head[3]) << 8 | UInt32(head[4]) << 16 | UInt32(head[5]) << 24
        let decoded: Kind = switch Int32(kind) {
        case ZMQ_EVENT_ACCEPTED: .accepted
        case ZMQ_EVENT_DISCONNECTED: .disconnected
        default: .other(kind)
        }
        return Event(kind: decoded, descriptor: Int32(bitPattern: value), address: String(decoding: message.frames[1], as: UTF8.self))
    }

    /// Every event queued now.
    public func drain() -> [Event] {
        var events: [Event] = []
        while let e = next() { events.append(e) }
        return events
    }

    public func close() { socket.close() }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }
}
