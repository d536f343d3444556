/// A configuration that cannot be used, reported before anything starts.
/// The description names where (file and line, or "command line"), the key, and what to do:
///
///     /etc/bertd/bertd.toml:14: batching.max_batch_tokens: must be at least 1 (found 0)
public struct ConfigurationError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Stable codes, for tests and for scripts that read bertd's exit message.
    public enum Code: String, Sendable {
        /// The file is not valid TOML (or uses TOML that bertd.toml does not support).
        case syntax
        /// A key bertd does not know (a typo, or a setting from another version).
        case unknownKey = "unknown_key"
        /// The value has the wrong TOML type (a string where a number belongs, …).
        case wrongType = "wrong_type"
        /// The value has the right type but is out of range or malformed.
        case invalidValue = "invalid_value"
        /// A required key is absent (e.g. an `[[endpoint]]` without `address`).
        case missingKey = "missing_key"
        /// A file the configuration names (itself, or a key file) cannot be read.
        case unreadableFile = "unreadable_file"
    }

    public var code: Code
    /// Where the setting came from: a file path, or "command line".
    public var source: String
    /// 1-based line in `source`, when known.
    public var line: Int?
    /// The full key, e.g. `batching.max_batch_tokens` or `endpoint[1].address`; nil for syntax errors.
    public var key: String?
    public var message: String

    public init(_ code: Code, source: String, line: Int? = nil, key: String? = nil, message: String) {
        self.code = code
        self.source = source
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var text = source
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "\(key): " }
        return text + message
    }
}
