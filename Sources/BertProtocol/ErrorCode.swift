/// The stable error codes of the protocol. Clients switch on these; the message is for people.
public enum ErrorCode: String, Sendable, CaseIterable, Codable {
    /// The message is not a valid request: not JSON, not UTF-8, a missing or mistyped field.
    case badRequest = "bad_request"
    /// `op` names no operation.
    case unknownOp = "unknown_op"
    /// `model` names no loaded model.
    case unknownModel = "unknown_model"
    /// The message, a text, or the number of texts is over a configured limit.
    case tooLarge = "too_large"
    /// The queue is full; retry later (with backoff).
    case overloaded = "overloaded"
    /// The request's deadline passed before its work was computed.
    case deadlineExceeded = "deadline_exceeded"
    /// This endpoint does not allow the operation (admin operations are on the ipc socket).
    case forbidden = "forbidden"
    /// The request's protocol version is not supported.
    case unsupportedVersion = "unsupported_version"
    /// The model cannot do this (e.g. classify without a head and without labels).
    case unsupported = "unsupported"
    /// Loading a model failed (not a model directory, corrupt weights, …).
    case loadFailed = "load_failed"
    /// An int8 load of a model whose directory records no passed quality gate (`bertctl quantize`)
    /// for the weights it holds; `force` overrides.
    case quantizationGate = "quantization_gate"
    /// `job` names no training job.
    case unknownJob = "unknown_job"
    /// The daemon is shutting down and takes no new work.
    case unavailable = "unavailable"
    /// A bug: the daemon is still running, the request was not served.
    case `internal` = "internal"
}

/// An error reply: a stable code and a message a person can act on.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
