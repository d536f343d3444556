/// A tokenizer failure with a stable `code` a caller can match on and a message a user can act on.
public struct TokenizerError: Error, CustomStringConvertible, Equatable {
    /// One of "unsupported_tokenizer", "missing_file", "invalid_file".
    public let code: String
    public let description: String

    public init(code: String, description: String) {
        self.code = code
        self.description = description
    }

    /// The files describe a tokenizer this library does not implement (never silently replaced
    /// by another one).
    static func unsupported(_ what: String) -> TokenizerError {
        TokenizerError(code: "unsupported_tokenizer", description: "unsupported tokenizer: \(what)")
    }

    static func missingFile(_ what: String) -> TokenizerError {
        TokenizerError(code: "missing_file", description: "missing tokenizer file: \(what)")
    }

    static func invalidFile(_ file: String, reason: String) -> TokenizerError {
        TokenizerError(code: "invalid_file", description: "invalid tokenizer file \(file): \(reason)")
    }
}
