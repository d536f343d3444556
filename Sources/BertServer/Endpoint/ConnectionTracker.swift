import ZeroMQ

/// Which client connection each request came in on, so that work for a client that has gone
/// away is withdrawn before it is computed (a vanished client costs nothing).
///
/// libzmq 4.3 tells a ROUTER nothing when a peer leaves, but its monitor reports each
/// connection's descriptor on accept and on disconnect, and each message carries the descriptor
/// it came in on. Descriptors are reused, so the tracker reads the monitor *after* reading a
/// message: a connection's `accepted` is queued before its first message, so by then the
/// descriptor's latest event belongs to the sender or to a later connection. A mistake can only
/// go the safe way: work from a departed client may be computed (and its reply dropped), but
/// work from a live client is never withdrawn.
final class ConnectionTracker {
    typealias Connection = ClientConnection

    enum Source {
        case connection(Connection)
        /// The descriptor's connection has closed: the sender is gone.
        case gone
        /// Not tracked (inproc, or a descriptor the monitor never reported).
        case untracked
    }

    let monitor: SocketMonitor
    private var open: [Int32: Connection] = [:]
    private var closed: Set<Int32> = []

    init(monitor: SocketMonitor) { self.monitor = monitor }

    /// Applies the queued monitor events; returns the connections that closed.
    func update() -> [Connection] {
        var gone: [Connection] = []
        while let event = monitor.next() {
            switch event.kind {
            case .accepted:
                open[event.descriptor] = Connection()
                closed.remove(event.descriptor)
            case .disconnected:
                if let c = open.removeValue(forKey: event.descriptor) { gone.append(c) }
                closed.insert(event.descriptor)
            case .other:
                break
            }
        }
        return gone
    }

    /// Where a message just read came from; call `update()` between reading it and this.
    func source(of descriptor: Int32?) -> Source {
        guard let descriptor else { return .untracked }
        if let c = open[descriptor] { return .connection(c) }
        return closed.contains(descriptor) ? .gone : .untracked
    }
}
