import BertProtocol
import HTTPTypes
import Hummingbird
import NIOCore

/// The HTTP status of each protocol error code; the JSON body carries the code and the message,
/// exactly as a ZeroMQ reply's `error` does.
extension ErrorCode {
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .badRequest, .unsupportedVersion: return .badRequest
        case .unknownOp, .unknownModel, .unknownJob: return .notFound
        case .forbidden: return .forbidden
        case .tooLarge: return .contentTooLarge
        case .overloaded: return .tooManyRequests
        case .unsupported, .loadFailed, .quantizationGate: return .unprocessableContent
        case .unavailable: return .serviceUnavailable
        case .deadlineExceeded: return .gatewayTimeout
        case .internal: return .internalServerError
        }
    }
}

/// JSON responses.
enum JSONResponse {
    static func ok(_ body: JSON, status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(body.text)
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    /// Any error of a route: a protocol error with its status, a body of another media type
    /// (415), anything else `internal` (500).
    static func error(_ error: Error) -> Response {
        if let error = error as? ProtocolError { return self.error(error) }
        if let error = error as? UnsupportedMediaType {
            var response = self.error(ProtocolError(.badRequest, "the body must be JSON (Content-Type: application/json), not \(error.type)"))
            response.status = .unsupportedMediaType
            return response
        }
        return self.error(ProtocolError(.internal, "\(error)"))
    }

    /// `{"error":{"code":…,"message":…}}` with the code's status; `overloaded` says when to retry.
    static func error(_ error: ProtocolError) -> Response {
        var response = ok(.object([("error", .object([("code", .string(error.code.rawValue)), ("message", .string(error.message))]))]),
                          status: error.code.httpStatus)
        if error.code == .overloaded || error.code == .unavailable { response.headers[.retryAfter] = "1" }
        return response
    }
}
