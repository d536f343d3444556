// Logging to standard error with the priority prefixes journald understands (sd-daemon(3)):
// a line "<6>model minilm loaded" is stored with priority 6 (info) and shown without the prefix.
// One call writes one line with one write(2) under a lock, so lines from different threads never
// interleave. Newlines inside a message are escaped: journald would otherwise split it into
// entries of which only the first carries the priority.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Syslog severities that bertd uses, by their journald priority numbers.
public enum LogLevel: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case error = 3
    case warning = 4
    case notice = 5
    case info = 6
    case debug = 7

    /// The names used in bertd.toml's `log_level`.
    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }

    public var name: String {
        switch self {
        case .error: "error"
        case .warning: "warning"
        case .notice: "notice"
        case .info: "info"
        case .debug: "debug"
        }
    }

    public var description: String { name }

    /// More severe compares smaller, as in syslog: `.error < .debug`.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A thread-safe line logger. `level` can change at run time (SIGHUP reloads `log_level`).
public final class Logger: @unchecked Sendable {
    public enum Style: Sendable {
        /// `<6>message` — for journald (the default: bertd runs under systemd).
        case journald
        /// `info: message` — for a terminal.
        case plain
    }

    private let lock = NSLock()
    private let fileDescriptor: Int32
    private let style: Style
    private var _level: LogLevel

    /// - Parameters:
    ///   - level: the least severe level that is written.
    ///   - fileDescriptor: where lines go (standard error by default; tests pass a pipe).
    public init(level: LogLevel = .info, style: Style = .journald, fileDescriptor: Int32 = 2) {
        self._level = level
        self.style = style
        self.fileDescriptor = fileDescriptor
    }

    public var level: LogLevel {
        get { lock.withLock { _level } }
        set { lock.withLock { _level = newValue } }
    }

    public func isEnabled(_ level: LogLevel) -> Bool { level <= self.level }

    /// Writes one line if `level` passes the filter. The message is built only then.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard isEnabled(level) else { return }
        let line = Self.format(level, message(), style: style)
        lock.withLock {
            line.utf8CString.withUnsafeBufferPointer { buffer in
                // Drop the trailing NUL; loop over partial writes and EINTR.
                var offset = 0
                let count = buffer.count - 1
                while offset < count {
                    let written = write(fileDescriptor, buffer.baseAddress! + offset, count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return  // stderr closed or full: nothing sensible left to do
                    }
                }
            }
        }
    }

    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func notice(_ message: @autoclosure () -> String) { log(.notice, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }

    /// The exact line written for a message, newline included.
    static func format(_ level: LogLevel, _ message: String, style: Style) -> String {
        var escaped = ""
        escaped.reserveCapacity(message.utf8.count + 8)
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        switch style {
        case .journald: return "<\(level.rawValue)>\(escaped)\n"
        case .plain: return "\(level.name): \(escaped)\n"
        }
    }
}
