import Foundation

/// A self-pipe that wakes the I/O thread's zmq_poll from other threads: the compute thread
/// (work done), loader threads (model loaded), and signal handlers (stop, reload). Writes never
/// block: a full pipe already holds a wake-up.
final class ControlPipe: @unchecked Sendable {
    enum Signal: UInt8 {
        case completions = 0x43  // C
        case stop = 0x53         // S
        case reload = 0x52       // R
        case loaded = 0x4C       // L
        case jobs = 0x4A         // J
        case foreign = 0x46      // F: a request from the HTTP gateway
    }

    let readEnd: Int32
    private let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw NSError(domain: "bertd", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "pipe() failed"]) }
        readEnd = fds[0]
        writeEnd = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    func post(_ signal: Signal) {
        var byte = signal.rawValue
        _ = write(writeEnd, &byte, 1)
    }

    /// Everything posted since the last drain.
    func drain() -> Set<Signal> {
        var got = Set<Signal>()
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let n = read(readEnd, &buffer, buffer.count)
            if n <= 0 { break }
            for byte in buffer[0..<n] { if let s = Signal(rawValue: byte) { got.insert(s) } }
        }
        return got
    }
}

/// A queue handed from other threads to the I/O thread, with a wake-up through the pipe. Once
/// closed (the server has stopped and nothing will read it), posts are refused.
final class Mailbox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    private var closed = false
    private let pipe: ControlPipe
    private let signal: ControlPipe.Signal

    init(pipe: ControlPipe, signal: ControlPipe.Signal) {
        self.pipe = pipe
        self.signal = signal
    }

    /// False when the mailbox is closed.
    @discardableResult
    func post(_ new: [T]) -> Bool {
        lock.lock()
        guard !closed else { lock.unlock(); return false }
        let wasEmpty = items.isEmpty
        items.append(contentsOf: new)
        lock.unlock()
        if wasEmpty { pipe.post(signal) }
        return true
    }

    func take() -> [T] {
        lock.lock()
        defer { lock.unlock() }
        let out = items
        items.removeAll(keepingCapacity: true)
        return out
    }

    /// Closes the mailbox; returns what was still in it.
    func close() -> [T] {
        lock.lock()
        closed = true
        lock.unlock()
        return take()
    }
}
