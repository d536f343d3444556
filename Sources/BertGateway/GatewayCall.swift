import BertCore
import BertProtocol
import BertServer

/// One request through the server's dispatch, awaited: the HTTP side of `BertServer.submit`.
/// The handler's task waits for the reply (a withdrawn request is answered too, so no task
/// waits forever).
struct GatewayCall {
    let server: BertServer
    /// `http://127.0.0.1:8080` or the admin socket's path, for messages.
    let listener: String
    let admin: Bool

    /// The reply's result, or the protocol error it carried. `connection` is the client's: when
    /// it closes, queued texts of its requests are withdrawn.
    func run(_ operation: Request.Operation, connection: ClientConnection) async -> Result<JSON, ProtocolError> {
        let server = self.server
        let request = Request(id: .string("http"), operation)
        let (listener, admin) = (self.listener, self.admin)
        let reply: JSON = await withCheckedContinuation { (continuation: CheckedContinuation<JSON, Never>) in
            server.submit(ForeignRequest(request: request, listener: listener, admin: admin, connection: connection,
                                         receivedAt: monotonicSeconds(), deliver: { continuation.resume(returning: $0) }))
        }
        return Self.outcome(of: reply)
    }

    /// `{"ok":true,"result":…}` → the result; `{"ok":false,"error":{code,message}}` → the error.
    static func outcome(of reply: JSON) -> Result<JSON, ProtocolError> {
        if case .bool(true)? = reply["ok"], let result = reply["result"] { return .success(result) }
        let error = reply["error"]
        guard let name = error?["code"]?.stringValue, let code = ErrorCode(rawValue: name) else {
            return .failure(ProtocolError(.internal, "a reply without a result or an error code"))
        }
        return .failure(ProtocolError(code, error?["message"]?.stringValue ?? ""))
    }
}

/// bertd's configuration (HummingbirdCore has a `ServerConfiguration` of its own).
public typealias DaemonConfiguration = ServerConfiguration
