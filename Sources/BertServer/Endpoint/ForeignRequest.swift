import BertProtocol

/// What other transports (the HTTP gateway) hand to the I/O thread through a `Mailbox`: a
/// request, dispatched like a ZeroMQ one, or the news that a client left.
enum ForeignItem {
    case request(ForeignRequest)
    /// The client closed its connection: withdraw its queued work.
    case left(ClientConnection)
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
