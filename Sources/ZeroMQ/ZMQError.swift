import CZeroMQ

/// A libzmq call failed: errno and zmq_strerror's text.
public struct ZMQError: Error, CustomStringConvertible, Equatable, Sendable {
    public let errno: Int32
    public let operation: String

    public var description: String { "\(operation): \(String(cString: zmq_strerror(errno)))" }

    /// EAGAIN: a non-blocking call had nothing to do (or a timeout expired).
    public var isWouldBlock: Bool { errno == EAGAIN }
    /// ETERM: the context is shutting down.
    public var isTerminated: Bool { errno == ETERM }
    /// EHOSTUNREACH: a ROUTER with ROUTER_MANDATORY was asked to send to a peer that is gone.
    public var isUnroutable: Bool { errno == EHOSTUNREACH }
    public var isInterrupted: Bool { errno == EINTR }

    static func last(_ operation: String) -> ZMQError { ZMQError(errno: zmq_errno(), operation: operation) }
}
