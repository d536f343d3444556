// `$RUNTIME_DIRECTORY`, `$STATE_DIRECTORY` and `$CONFIGURATION_DIRECTORY` in path-like values.
// systemd sets them for RuntimeDirectory=, StateDirectory= and ConfigurationDirectory= (see
// systemd.exec(5)); outside systemd they fall back to the directories the unit would use, so the
// same bertd.toml works in both. `$CREDENTIALS_DIRECTORY` (LoadCredential=) has no fallback.
import Foundation

struct PathExpander: Sendable {
    static let fallbacks: [String: String] = [
        "RUNTIME_DIRECTORY": "/run/bertd",
        "STATE_DIRECTORY": "/var/lib/bertd",
        "CONFIGURATION_DIRECTORY": "/etc/bertd",
    ]
    static let variables = ["RUNTIME_DIRECTORY", "STATE_DIRECTORY", "CONFIGURATION_DIRECTORY", "CREDENTIALS_DIRECTORY"]

    struct Failure: Error { var message: String }

    var environment: [String: String]
    /// Relative paths are made absolute against this (the configuration file's directory).
    var baseDirectory: String

    /// The value of a variable: systemd passes one directory per listed name, colon-separated;
    /// bertd lists one, and uses the first.
    func value(of variable: String) throws(Failure) -> String {
        if let value = environment[variable], !value.isEmpty {
            return String(value.split(separator: ":", omittingEmptySubsequences: true).first ?? Substring(value))
        }
        if let fallback = Self.fallbacks[variable] { return fallback }
        throw Failure(message: "$\(variable) is not set (systemd sets it only with LoadCredential=)")
    }

    /// Replaces `$NAME` and `${NAME}`; any other `$` use is an error (a typo would otherwise
    /// produce a strange path that fails much later).
    func substitute(_ text: String) throws(Failure) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            let name: Substring
            if rest.first == "{" {
                guard let close = rest.firstIndex(of: "}") else {
                    throw Failure(message: "unterminated ${ in \"\(text)\"")
                }
                name = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex { !($0.isLetter || $0.isNumber || $0 == "_") } ?? rest.endIndex
                name = rest[..<end]
                rest = rest[end...]
            }
            guard Self.variables.contains(String(name)) else {
                throw Failure(message: "unknown variable $\(name) in \"\(text)\" (known: "
                    + Self.variables.map { "$" + $0 }.joined(separator: ", ") + ")")
            }
            result += try value(of: String(name))
        }
        return result + rest
    }

    /// A filesystem path: variables substituted, made absolute.
    func expand(_ path: String) throws(Failure) -> String {
        let substituted = try substitute(path)
        guard !substituted.isEmpty else { throw Failure(message: "the path is empty") }
        return absolute(substituted)
    }

    /// An endpoint address: `ipc://` paths get variables substituted and are made absolute
    /// (an abstract socket, `ipc://@name`, is left alone); tcp and inproc are taken as written.
    func expandEndpoint(_ address: String) throws(Failure) -> String {
        guard address.hasPrefix("ipc://") else { return address }
        let path = try substitute(String(address.dropFirst("ipc://".count)))
        if path.isEmpty || path.hasPrefix("@") { return "ipc://" + path }
        return "ipc://" + absolute(path)
    }

    private func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let base = baseDirectory.hasSuffix("/") ? String(baseDirectory.dropLast()) : baseDirectory
        let relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return base + "/" + relative
    }
}
