import CZeroMQ

/// zmq_poll over sockets and plain file descriptors (a signalfd, an eventfd).
public struct Poller {
    public enum Item {
        case socket(Socket)
        case fd(Int32)
    }

    private var items: [zmq_pollitem_t] = []
    private var sockets: [Socket?] = []  // keeps the sockets alive while polled

    public init() {}

    /// Adds an item polled for input; returns its index.
    @discardableResult
    public mutating func add(_ item: Item) -> Int {
        switch item {
        case .socket(let s):
            items.append(zmq_pollitem_t(socket: s.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0))
            sockets.append(s)
        case .fd(let fd):
            items.append(zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0))
            sockets.append(nil)
        }
        return items.count - 1
    }

    /// Waits up to `timeoutMs` (-1: forever) for input; returns the indices that have some.
    public mutating func poll(timeoutMs: Int) throws -> [Int] {
        let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, Int32($0.count), timeoutMs) }
        if rc < 0 {
            let error = ZMQError.last("zmq_poll")
            if error.isInterrupted { return [] }
            throw error
        }
        return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
