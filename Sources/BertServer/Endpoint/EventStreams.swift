import Foundation

/// Listeners inside the process for what the PUB socket publishes (the HTTP gateway's
/// Server-Sent Events): each gets the events whose topic starts with its prefix, as an
/// AsyncStream that keeps the newest 1 000 when its reader is slow (PUB drops too). The I/O
/// thread publishes; any thread subscribes. `finishAll` ends every stream (the server stops).
public final class EventStreams: @unchecked Sendable {
    /// One event: its topic (`job.step`) and its JSON text.
    public struct Event: Sendable {
        public let topic: String
        public let json: String
    }

    private let lock = NSLock()
    private var streams: [UUID: (prefix: String, continuation: AsyncStream<Event>.Continuation)] = [:]
    private var finished = false

    /// The events whose topic starts with `prefix` ("" for all), from now until the server stops
    /// or the stream is dropped.
    public func subscribe(prefix: String) -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(1_000))
        let id = UUID()
        lock.lock()
        if finished {
            lock.unlock()
            continuation.finish()
            return stream
        }
        streams[id] = (prefix, continuation)
        lock.unlock()
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.lock.lock()
            self.streams[id] = nil
            self.lock.unlock()
        }
        return stream
    }

    var count: Int { lock.lock(); defer { lock.unlock() }; return streams.count }

    func publish(topic: String, json: String) {
        lock.lock()
        let targets = streams.values.filter { topic.hasPrefix($0.prefix) }.map(\.continuation)
        lock.unlock()
        for continuation in targets { continuation.yield(Event(topic: topic, json: json)) }
    }

    func finishAll() {
        lock.lock()
        finished = true
        let all = streams.values.map(\.continuation)
        streams.removeAll()
        lock.unlock()
        for continuation in all { continuation.finish() }
    }
}
