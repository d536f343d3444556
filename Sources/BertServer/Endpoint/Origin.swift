import BertProtocol
import Foundation

/// A client connection, compared by identity: when it closes, the work of its requests that is
/// still queued is withdrawn (ZeroMQ: a ROUTER peer seen by `ConnectionTracker`; HTTP: one
/// request's connection).
public final class ClientConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false

    public init() {}

    /// Set by a transport that learns the client left before its request reached the server
    /// (HTTP: the client closed right after sending): such a request is not computed.
    public var isClosed: Bool {
        get { lock.lock(); defer { lock.unlock() }; return closed }
        set { lock.lock(); closed = newValue; lock.unlock() }
    }
}

/// Where a request came from and how its reply goes back, whatever the transport: what
/// `BertServer.dispatch` needs besides the request itself. Used on the I/O thread only.
struct Origin {
    /// The listener it arrived on (`tcp://127.0.0.1:5555`, `http://127.0.0.1:8080`), for messages.
    let listener: String
    /// `zeromq` or `http`, for the metrics.
    let transport: String
    /// Whether that listener serves an operation (public or admin).
    let allows: (Op) -> Bool
    /// The client's connection, when it is tracked.
    let connection: ClientConnection?
    /// When the request arrived: its latency counts from here.
    let receivedAt: Double
    /// Sends one reply object (`Reply.success` or `Reply.failure`), at most once per request.
    let deliver: (JSON) -> Void

    /// The same origin, counting its reply in `bertd_requests_total` under `op` and the reply's
    /// code as it goes out.
    func counted(op: String, in metrics: ServerMetrics) -> Origin {
        let (deliver, transport) = (self.deliver, self.transport)
        return Origin(listener: listener, transport: transport, allows: allows, connection: connection, receivedAt: receivedAt,
                      deliver: { reply in
                          metrics.request(op: op, transport: transport, code: reply["error"]?["code"]?.stringValue ?? "ok")
                          deliver(reply)
                      })
    }
}
