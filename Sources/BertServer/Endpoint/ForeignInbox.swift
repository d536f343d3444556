import BertProtocol
import Foundation

/// Requests from transports that are not the server's own sockets (the HTTP gateway), handed to
/// the I/O thread, which dispatches them like ZeroMQ requests. Any thread may post; once the
/// server has stopped the inbox is closed, and a post is answered `unavailable` at once.
final class ForeignInbox: @unchecked Sendable {
    enum Item {
        case request(ForeignRequest)
        /// The client closed its connection: withdraw its queued work.
        case left(ClientConnection)
    }

    private let lock = NSLock()
    private var items: [Item] = []
    private var closed = false
    private let pipe: ControlPipe

    init(pipe: ControlPipe) { self.pipe = pipe }

    /// False when the server has stopped (nothing will read it).
    func post(_ item: Item) -> Bool {
        lock.lock()
        guard !closed else { lock.unlock(); return false }
        let wasEmpty = items.isEmpty
        items.append(item)
        lock.unlock()
        if wasEmpty { pipe.post(.foreign) }
        return true
    }

    func take() -> [Item] {
        lock.lock()
        defer { lock.unlock() }
        let out = items
        items.removeAll(keepingCapacity: true)
        return out
    }

    /// Closes the inbox; returns what was still in it.
    func close() -> [Item] {
        lock.lock()
        defer { lock.unlock() }
        closed = true
        let out = items
        items.removeAll()
        return out
    }
}

/// A request from another transport, with what `dispatch` needs to build its origin.
public struct ForeignRequest: Sendable {
    public let request: Request
    /// The listener it came in on, for messages (`http://127.0.0.1:8080`).
    public let listener: String
    /// Whether that listener serves admin operations.
    public let admin: Bool
    /// The transport's name for the metrics (`http`).
    public let transport: String
    public let connection: ClientConnection?
    public let receivedAt: Double
    /// Delivers the reply object (`Reply.success` or `Reply.failure`) exactly once.
    public let deliver: @Sendable (JSON) -> Void

    public init(request: Request, listener: String, admin: Bool, transport: String = "http", connection: ClientConnection?,
                receivedAt: Double, deliver: @escaping @Sendable (JSON) -> Void) {
        self.request = request
        self.listener = listener
        self.admin = admin
        self.transport = transport
        self.connection = connection
        self.receivedAt = receivedAt
        self.deliver = deliver
    }
}
