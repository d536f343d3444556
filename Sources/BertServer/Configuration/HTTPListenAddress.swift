/// Where an HTTP listener of the gateway binds: `HOST:PORT` (`127.0.0.1:8080`, `[::1]:8080`;
/// port `*` or 0 takes any free one) or a Unix socket path (`/run/bertd/http.sock`).
public enum HTTPListenAddress: Equatable, Sendable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Parses `text`; nil and the reason when it is not an address.
    public static func parse(_ text: String) -> Result<HTTPListenAddress, HTTPAddressProblem> {
        if text.hasPrefix("/") {
            guard text.utf8.count <= 107 else { return .failure(.init("the socket path is longer than 107 bytes, the limit of a unix socket address")) }
            return .success(.unix(path: text))
        }
        guard let colon = text.lastIndex(of: ":") else {
            return .failure(.init("an HTTP address is HOST:PORT (e.g. 127.0.0.1:8080) or a Unix socket path (found \"\(text)\")"))
        }
        var host = String(text[..<colon])
        let port = text[text.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: { $0 == "/" || $0.isWhitespace }) else {
            return .failure(.init("an HTTP address needs a host before the port, e.g. 127.0.0.1:8080 (found \"\(text)\")"))
        }
        if port == "*" { return .success(.tcp(host: host, port: 0)) }
        guard let number = Int(port), (0...65_535).contains(number) else {
            return .failure(.init("the port must be 0–65535 or * (found \"\(port)\")"))
        }
        return .success(.tcp(host: host, port: number))
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return path
        }
    }
}

public struct HTTPAddressProblem: Error, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
}
