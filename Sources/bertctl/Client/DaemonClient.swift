import BertProtocol
import Foundation
import ZeroMQ

/// Talks to bertd: one REQ socket per call, a timeout on every call, and Lazy Pirate retries
/// (close the socket, open a new one, resend) for idempotent operations — so an unreachable
/// daemon is an error after `timeout × (retries + 1)`, never a hang.
final class DaemonClient {
    enum Failure: Error, CustomStringConvertible {
        case unreachable(endpoint: String, waited: Double)
        case replied(ProtocolError)
        case malformedReply(String)

        var description: String {
            switch self {
            case .unreachable(let endpoint, let waited):
                return "bertd did not answer at \(endpoint) within \(String(format: "%.1f", waited)) s (is it running? see --endpoint)"
            case .replied(let error): return "\(error.code.rawValue): \(error.message)"
            case .malformedReply(let text): return "malformed reply from bertd: \(text)"
            }
        }
    }

    let endpoint: String
    let timeoutMs: Int
    let retries: Int
    let curve: (serverKey: String, publicKey: String, secretKey: String)?
    private let context: Context

    init(endpoint: String, timeoutMs: Int, retries: Int, curve: (String, String, String)? = nil) throws {
        self.endpoint = endpoint
        self.timeoutMs = timeoutMs
        self.retries = retries
        self.curve = curve
        context = try Context()
    }

    /// Sends the request and returns the reply's `result`; throws `Failure` otherwise.
    func call(_ request: Request) throws -> [String: Any] {
        let attempts = request.op.isIdempotent ? retries + 1 : 1
        let body = request.json.bytes
        for _ in 0..<attempts {
            let socket = try Socket(context, .req)
            try socket.setLinger(0)
            if let curve { try Curve.makeClient(socket, serverKey: curve.serverKey, publicKey: curve.publicKey, secretKey: curve.secretKey) }
            try socket.connect(endpoint)
            defer { socket.close() }
            try socket.send([body])
            var poller = Poller()
            poller.add(.socket(socket))
            if try !poller.poll(timeoutMs: timeoutMs).isEmpty, let reply = try socket.receive(dontWait: true) {
                return try Self.result(of: reply.frames.last ?? [])
            }
        }
        throw Failure.unreachable(endpoint: endpoint, waited: Double(timeoutMs * attempts) / 1000)
    }

    static func result(of bytes: [UInt8]) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let ok = object["ok"] as? Bool
        else { throw Failure.malformedReply(String(decoding: bytes.prefix(200), as: UTF8.self)) }
        if ok { return object["result"] as? [String: Any] ?? [:] }
        let error = object["error"] as? [String: Any]
        let code = (error?["code"] as? String).flatMap(ErrorCode.init(rawValue:)) ?? .internal
        throw Failure.replied(ProtocolError(code, error?["message"] as? String ?? "unknown error"))
    }

    /// --endpoint, else $BERTD_ENDPOINT, else the admin ipc socket if it exists, else local TCP.
    static func resolveEndpoint(_ option: String?) -> String {
        if let option, !option.isEmpty { return option }
        if let env = ProcessInfo.processInfo.environment["BERTD_ENDPOINT"], !env.isEmpty { return env }
        let ipc = "/run/bertd/bertd.sock"
        if FileManager.default.fileExists(atPath: ipc) { return "ipc://" + ipc }
        return "tcp://127.0.0.1:5555"
    }
}
