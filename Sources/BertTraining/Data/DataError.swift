/// An error of the training data, checkpoints or reports: a stable `code` a program (or the
/// daemon's reply) can switch on, and a message naming the file and line a person should fix.
public struct TrainingDataError: Error, CustomStringConvertible, Equatable, Sendable {
    public let code: Code
    public let message: String

    public enum Code: String, Sendable {
        case fileNotFound = "file_not_found"
        case unsupportedFormat = "unsupported_format"
        /// The header lacks a requested column, or a file has no header at all.
        case missingColumn = "missing_column"
        /// A row that cannot be used: too few fields, empty text, malformed JSON or quoting.
        case badRow = "bad_row"
        /// A label outside the label set (validation data, or a label set given up front).
        case unknownLabel = "unknown_label"
        /// Too little data for what was asked (no rows, one class, more folds than examples).
        case notEnoughData = "not_enough_data"
        case invalidOption = "invalid_option"
        case invalidCheckpoint = "invalid_checkpoint"
        case ioError = "io_error"
    }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// An error about one row: "FILE:LINE: message", the form editors and terminals link to.
    static func row(_ code: Code, file: String, line: Int, _ message: String) -> TrainingDataError {
        TrainingDataError(code, "\(file):\(line): \(message)")
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
