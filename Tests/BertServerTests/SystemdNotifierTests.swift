import BertCore
@testable import BertServer
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The exact sd_notify datagrams, received on a unix datagram socket this test binds and names in
/// NOTIFY_SOCKET — what systemd itself would receive.
final class SystemdNotifierTests: XCTestCase {
    private var socketPath = ""
    private var socketFD: Int32 = -1

    override func setUpWithError() throws {
        socketPath = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        socketFD = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(socketFD, 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: socketPath.utf8.prefix(buffer.count - 1))
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0, "bind \(socketPath): \(String(cString: strerror(errno)))")
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setenv("NOTIFY_SOCKET", socketPath, 1)
    }

    override func tearDown() {
        unsetenv("NOTIFY_SOCKET")
        unsetenv("WATCHDOG_USEC")
        unsetenv("WATCHDOG_PID")
        close(socketFD)
        unlink(socketPath)
    }

    /// The next datagram, or nil after the 2 s receive timeout.
    private func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(socketFD, &buffer, buffer.count, 0)
        return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
    }

    func testSendsTheExactDatagrams() throws {
        let notifier = SystemdNotifier()
        XCTAssertTrue(notifier.isUnderSystemd)

        XCTAssertTrue(notifier.ready())
        XCTAssertEqual(receive(), "READY=1")

        XCTAssertTrue(notifier.ready(status: "serving 1 model"))
        XCTAssertEqual(receive(), "READY=1\nSTATUS=serving 1 model")

        XCTAssertTrue(notifier.status("models: minilm; queue 0\nsecond line"))
        XCTAssertEqual(receive(), "STATUS=models: minilm; queue 0 second line")

        XCTAssertTrue(notifier.watchdog())
        XCTAssertEqual(receive(), "WATCHDOG=1")

        XCTAssertTrue(notifier.extendTimeout(seconds: 90))
        XCTAssertEqual(receive(), "EXTEND_TIMEOUT_USEC=90000000")

        let before = monotonicMicroseconds()
        XCTAssertTrue(notifier.reloading())
        let after = monotonicMicroseconds()
        let reloading = try XCTUnwrap(receive())
        let lines = reloading.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, reloading)
        XCTAssertEqual(lines.first, "RELOADING=1")
        let stamp = try XCTUnwrap(lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil },
                                  reloading)
        XCTAssertTrue((before...after).contains(stamp), "MONOTONIC_USEC=\(stamp) is CLOCK_MONOTONIC (\(before)…\(after))")

        XCTAssertTrue(notifier.stopping())
        XCTAssertEqual(receive(), "STOPPING=1")
    }

    func testWatchdogInterval() {
        let notifier = SystemdNotifier()
        XCTAssertNil(notifier.watchdogInterval, "no WATCHDOG_USEC: no watchdog")
        setenv("WATCHDOG_USEC", "30000000", 1)
        setenv("WATCHDOG_PID", String(getpid()), 1)
        XCTAssertEqual(notifier.watchdogInterval, .seconds(30))
        setenv("WATCHDOG_PID", "1", 1)  // meant for another process
        XCTAssertNil(notifier.watchdogInterval)
    }

    func testOutsideSystemdEverythingIsANoOp() {
        unsetenv("NOTIFY_SOCKET")
        let notifier = SystemdNotifier()
        XCTAssertFalse(notifier.isUnderSystemd)
        XCTAssertFalse(notifier.ready())
        XCTAssertFalse(notifier.status("x"))
        XCTAssertFalse(notifier.stopping())
    }
}

/// journald priority prefixes, level filtering, one intact line per call from many threads.
final class LoggerTests: XCTestCase {
    /// Runs `body` with a logger writing into a pipe and returns what it wrote.
    private func capture(level: LogLevel, style: Logger.Style = .journald, _ body: (Logger) -> Void) -> String {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        final class Output: @unchecked Sendable { var data = Data() }  // written before `done` is signalled
        let output = Output()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            output.data = reader.readDataToEndOfFile()
            done.signal()
        }
        body(Logger(level: level, style: style, fileDescriptor: fds[1]))
        close(fds[1])
        done.wait()
        return String(decoding: output.data, as: UTF8.self)
    }

    func testPrioritiesAndFiltering() {
        let text = capture(level: .notice) { log in
            log.error("e")
            log.warning("w")
            log.notice("n")
            log.info("i")
            log.debug("d")
        }
        XCTAssertEqual(text, "<3>e\n<4>w\n<5>n\n")
        XCTAssertEqual(capture(level: .debug) { $0.debug("d") }, "<7>d\n")
        XCTAssertEqual(capture(level: .info) { $0.info("i") }, "<6>i\n")
        XCTAssertEqual(capture(level: .error, style: .plain) { $0.error("bad") }, "error: bad\n")
    }

    func testOneLinePerCall() {
        XCTAssertEqual(capture(level: .info) { $0.warning("two\nlines\r") }, "<4>two\\nlines\\r\n")
    }

    func testLevelCanChangeAndMessagesAreLazy() {
        var built = 0
        let text = capture(level: .info) { log in
            log.debug({ built += 1; return "hidden" }())
            log.level = .debug
            log.debug({ built += 1; return "shown" }())
        }
        XCTAssertEqual(text, "<7>shown\n")
        XCTAssertEqual(built, 1, "a filtered message is never built")
    }

    func testLevelNames() {
        XCTAssertEqual(LogLevel(name: "WARNING"), .warning)
        XCTAssertNil(LogLevel(name: "verbose"))
        XCTAssertEqual(LogLevel.allCases.map(\.rawValue), [3, 4, 5, 6, 7])
        XCTAssertTrue(LogLevel.error < LogLevel.debug)
    }

    func testConcurrentLinesNeverInterleave() {
        let threads = 8, perThread = 500
        let payload = String(repeating: "x", count: 300)
        let text = capture(level: .info) { log in
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                for n in 0..<perThread { log.info("thread \(thread) line \(n) \(payload)") }
            }
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, threads * perThread)
        var seen = Set<String>()
        for line in lines {
            XCTAssertTrue(line.hasPrefix("<6>thread ") && line.hasSuffix(payload), "interleaved: \(line.prefix(80))")
            seen.insert(String(line))
        }
        XCTAssertEqual(seen.count, threads * perThread)
    }
}
