import CZeroMQ
import Foundation

/// A ZeroMQ socket. Not thread-safe: use each socket from one thread only.
public final class Socket {
    public enum Kind: Int32, Sendable {
        case req = 3, rep = 4, dealer = 5, router = 6, pub = 1, sub = 2, push = 8, pull = 7, pair = 0
    }

    let handle: UnsafeMutableRawPointer
    public let kind: Kind
    private var closed = false

    public init(_ context: Context, _ kind: Kind) throws {
        guard let h = zmq_socket(context.handle, kind.rawValue) else { throw ZMQError.last("zmq_socket") }
        handle = h
        self.kind = kind
    }

    deinit { close() }

    /// Closes the socket now; unsent messages are dropped after `linger` (set it first).
    public func close() {
        if !closed { zmq_close(handle); closed = true }
    }

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("bind \(endpoint)") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("connect \(endpoint)") }
    }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to the chosen port).
    public var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size)
        return String(cString: buffer)
    }

    // MARK: options

    public func set(_ option: Int32, _ value: Int32) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else { throw ZMQError.last("setsockopt \(option)") }
    }

    public func set(_ option: Int32, _ value: Int64) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size) == 0 else { throw ZMQError.last("setsockopt \(option)") }
    }

    public func set(_ option: Int32, _ value: [UInt8]) throws {
        let rc = value.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last("setsockopt \(option)") }
    }

    public func set(_ option: Int32, _ value: String) throws { try set(option, Array(value.utf8)) }

    /// Milliseconds unsent messages may linger after close (0: drop at once).
    public func setLinger(_ ms: Int) throws { try set(ZMQ_LINGER, Int32(ms)) }
    public func setReceiveTimeout(_ ms: Int) throws { try set(ZMQ_RCVTIMEO, Int32(ms)) }
    public func setHighWaterMarks(send: Int, receive: Int) throws {
        try set(ZMQ_SNDHWM, Int32(send)); try set(ZMQ_RCVHWM, Int32(receive))
    }
    /// Peers sending a larger message are disconnected by libzmq before it is allocated.
    public func setMaxMessageSize(_ bytes: Int64) throws { try set(ZMQ_MAXMSGSIZE, bytes) }
    public func setRouterMandatory(_ on: Bool) throws { try set(ZMQ_ROUTER_MANDATORY, Int32(on ? 1 : 0)) }
    public func subscribe(_ prefix: String) throws { try set(ZMQ_SUBSCRIBE, prefix) }
    public func unsubscribe(_ prefix: String) throws { try set(ZMQ_UNSUBSCRIBE, prefix) }

    // MARK: messages

    /// Sends every frame of a multipart message. With `dontWait`, EAGAIN throws instead of blocking.
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws {
        precondition(!frames.isEmpty, "a message has at least one frame")
        for (i, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if i < frames.count - 1 { flags |= ZMQ_SNDMORE }
            var rc: Int32
            repeat {
                rc = frame.withUnsafeBytes { Int32(zmq_send(handle, $0.baseAddress, $0.count, flags)) }
            } while rc < 0 && zmq_errno() == EINTR
            guard rc >= 0 else { throw ZMQError.last("send") }
        }
    }

    public func send(_ frames: [String], dontWait: Bool = false) throws {
        try send(frames.map { Array($0.utf8) }, dontWait: dontWait)
    }

    /// Receives all frames of the next message; nil when `dontWait` and none is waiting.
    /// Frames past `maxFrames` are read and dropped (a malformed peer cannot grow memory), and
    /// `truncated` is set.
    public func receive(dontWait: Bool = false, maxFrames: Int = 64) throws -> Message? {
        var frames: [[UInt8]] = []
        var truncated = false
        var more = true
        var first = true
        var sourceDescriptor: Int32?
        while more {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            var rc: Int32
            repeat {
                rc = zmq_msg_recv(&msg, handle, (dontWait && first) ? ZMQ_DONTWAIT : 0)
            } while rc < 0 && zmq_errno() == EINTR
            if rc < 0 {
                let error = ZMQError.last("receive")
                if first && error.isWouldBlock && dontWait { return nil }
                throw error
            }
            if sourceDescriptor == nil {
                // ZMQ_SRCFD is deprecated in favour of metadata that 4.3 does not offer for the
                // descriptor; it is still how a message is tied to its connection's monitor events.
                // The first frame with one: a ROUTER's identity frame has none when zmq_poll
                // prefetched the message (libzmq 4.3 router_t::xhas_in), the frames after it do.
                let fd = zmq_msg_get(&msg, ZMQ_SRCFD)
                if fd >= 0 { sourceDescriptor = fd }
            }
            first = false
            if frames.count < maxFrames {
                let size = zmq_msg_size(&msg)
                let data = zmq_msg_data(&msg)!.assumingMemoryBound(to: UInt8.self)
                frames.append(Array(UnsafeBufferPointer(start: data, count: size)))
            } else {
                truncated = true
            }
            more = zmq_msg_more(&msg) != 0
        }
        return Message(frames: frames, truncated: truncated, sourceDescriptor: sourceDescriptor)
    }
}

/// A multipart message as received.
public struct Message: Sendable {
    public var frames: [[UInt8]]
    public var truncated: Bool
    /// The file descriptor of the connection it came in on (tcp, ipc); nil for inproc. The
    /// descriptor is reused after the connection closes: pair it with a `SocketMonitor`.
    public var sourceDescriptor: Int32?

    public init(frames: [[UInt8]], truncated: Bool = false, sourceDescriptor: Int32? = nil) {
        self.frames = frames
        self.truncated = truncated
        self.sourceDescriptor = sourceDescriptor
    }
}
