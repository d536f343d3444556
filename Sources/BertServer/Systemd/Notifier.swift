// The sd_notify(3) protocol: state changes sent to systemd as datagrams on $NOTIFY_SOCKET.
// Outside systemd (NOTIFY_SOCKET unset) every call is a no-op, so the daemon needs no special
// case when run from a terminal or a test. With NotifyAccess=main the messages must come from the
// main process — they do: libsystemd sends them from whichever thread calls, in our process.
import BertCore
import CSystemd
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public final class SystemdNotifier: Sendable {
    public init() {}

    /// True when systemd waits for our notifications (Type=notify / notify-reload).
    public var isUnderSystemd: Bool {
        guard let socket = getenv("NOTIFY_SOCKET") else { return false }
        return socket.pointee != 0
    }

    /// How often systemd expects `WATCHDOG=1` (WatchdogSec=), or nil when the watchdog is off.
    /// Send it at half this interval or more often.
    public var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }

    /// Start-up finished (models loaded, sockets bound), or a reload finished.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + (status.map { ["STATUS=" + Self.oneLine($0)] } ?? []))
    }

    /// A reload began. Type=notify-reload requires MONOTONIC_USEC in the same message so systemd
    /// can tell this reload from an earlier one; send `ready()` when it is done.
    @discardableResult
    public func reloading() -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds())"])
    }

    /// Shutdown began (SIGTERM received).
    @discardableResult
    public func stopping() -> Bool { send(["STOPPING=1"]) }

    /// The one-line status `systemctl status` shows.
    @discardableResult
    public func status(_ line: String) -> Bool { send(["STATUS=" + Self.oneLine(line)]) }

    /// Keep-alive for WatchdogSec=.
    @discardableResult
    public func watchdog() -> Bool { send(["WATCHDOG=1"]) }

    /// Asks for more time in the current start-up, reload or shutdown phase (a big model loading).
    @discardableResult
    public func extendTimeout(seconds: Double) -> Bool {
        let microseconds = UInt64(max(0, seconds * 1_000_000).rounded())
        return send(["EXTEND_TIMEOUT_USEC=\(microseconds)"])
    }

    /// Sends the assignments as one datagram. False when not under systemd or the send failed.
    @discardableResult
    public func send(_ assignments: [String]) -> Bool {
        guard isUnderSystemd else { return false }
        return sd_notify(0, assignments.joined(separator: "\n")) > 0
    }

    /// Status text is one line: a newline would start a new assignment in the datagram.
    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
