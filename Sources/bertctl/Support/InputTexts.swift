import Foundation

/// Where a command's texts come from: its arguments, else standard input, one text per line.
enum InputTexts {
    static func read(arguments: [String]) -> [String] {
        if !arguments.isEmpty { return arguments }
        var lines: [String] = []
        while let line = Swift.readLine(strippingNewline: true) { lines.append(line) }
        return lines
    }
}

/// The text column of a `text<TAB>label` file with a header line (the format of ../shared/data).
enum TSVTexts {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func read(path: String, limit: Int? = nil) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(path)")
        }
        guard String(data: data, encoding: .utf8) != nil else {
            throw Failure(description: "\(path) is not valid UTF-8")
        }
        // Split on bytes, not Characters: Swift treats "\r\n" as one Character, and the reference
        // (Python's str.split("\n")) keeps a "\r" as part of the text.
        var texts: [String] = []
        var first = true
        for line in data.split(separator: 10, omittingEmptySubsequences: false) {
            if first { first = false; continue }  // header
            if line.isEmpty { continue }
            let text = line.split(separator: 9, maxSplits: 1, omittingEmptySubsequences: false)[0]
            texts.append(String(decoding: text, as: UTF8.self))
            if let limit, texts.count >= limit { break }
        }
        return texts
    }
}
