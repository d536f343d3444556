import BertCore
import BertPipeline

/// Errors from the libraries become one line on stderr and exit code 1 (ArgumentParser prints
/// `Error: …`); no stack trace, no crash.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

extension LocalModelOptions {
    /// The model directory, loaded, or a one-line error naming it.
    func load() throws -> TextModel {
        guard let directory else { throw CommandFailure(description: "--local DIR is required") }
        do {
            return try TextModel(directory: url, precision: precision)
        } catch let error as BertError {
            throw CommandFailure(description: "cannot load \(directory): \(error.message) [\(error.code.rawValue)]")
        }
    }
}
