import Foundation

/// Replies for people: pretty-printed JSON with sorted keys; for scripts, `--json` prints the
/// result object compactly on one line.
enum ResultPrinter {
    static func print(_ result: [String: Any], json: Bool) {
        let options: JSONSerialization.WritingOptions = json ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let data = try? JSONSerialization.data(withJSONObject: result, options: options) {
            Swift.print(String(decoding: data, as: UTF8.self))
        }
    }
}
