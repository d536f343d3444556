/// An error of the engine: a stable `code` a program can switch on, and a message a person can act on.
public struct BertError: Error, CustomStringConvertible, Equatable, Sendable {
    public let code: Code
    public let message: String

    public enum Code: String, Sendable {
        case fileNotFound = "file_not_found"
        case notAModel = "not_a_model"
        case invalidSafetensors = "invalid_safetensors"
        case invalidConfig = "invalid_config"
        case unsupportedModel = "unsupported_model"
        case weightMismatch = "weight_mismatch"
        case invalidInput = "invalid_input"
        case ioError = "io_error"
    }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
