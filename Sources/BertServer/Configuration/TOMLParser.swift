// A parser for the subset of TOML (https://toml.io/en/v1.0.0) that bertd.toml uses:
// comments, `[table]`, `[[array.of.tables]]`, `key = value` with bare, quoted and dotted keys,
// basic strings (with escapes) and literal strings, integers (with `_`), floats, booleans, and
// arrays of those (multi-line, trailing comma allowed). Anything else — multi-line strings,
// inline tables, dates, hexadecimal integers — is an error naming its line, never a guess.
// Every key remembers its line, so configuration errors can point at it.

/// A parsed TOML value.
public indirect enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)
    case tableArray([TOMLTable])

    /// The TOML type name, for error messages ("expected an integer, found a string").
    public var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .tableArray: "an array of tables"
        }
    }
}

/// A TOML table: its entries in file order, each with the line it was defined on.
public struct TOMLTable: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var key: String
        public var value: TOMLValue
        public var line: Int
    }

    /// The line of the table's header (`[name]`), or of the first key that created it; 0 for the root.
    public var line: Int
    public private(set) var entries: [Entry] = []
    /// True once the table has been opened by its own `[header]` (opening it again is an error).
    var isDefinedByHeader = false
    /// True when the table was created by a dotted key (`a.b = 1`); a `[a]` header may not reopen it.
    var isDefinedByDottedKey = false

    public init(line: Int) { self.line = line }

    public subscript(key: String) -> TOMLValue? {
        entries.first { $0.key == key }?.value
    }

    public func entry(_ key: String) -> Entry? {
        entries.first { $0.key == key }
    }

    fileprivate func index(of key: String) -> Int? {
        entries.firstIndex { $0.key == key }
    }

    fileprivate mutating func append(_ key: String, _ value: TOMLValue, line: Int) {
        entries.append(Entry(key: key, value: value, line: line))
    }

    fileprivate mutating func replace(at index: Int, with value: TOMLValue) {
        entries[index].value = value
    }
}

/// A syntax error: the line (1-based) and what is wrong there.
public struct TOMLError: Error, Equatable, CustomStringConvertible, Sendable {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

public enum TOMLParser {
    /// Parses a whole document into its root table.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = Parser(text)
        return try parser.parseDocument()
    }

    /// Parses a single value as it would appear after `key =` (used for command-line overrides).
    public static func parseValue(_ text: String) throws(TOMLError) -> TOMLValue {
        var parser = Parser(text)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        try parser.expectEndOfLine()
        guard parser.atEnd else { throw parser.error("unexpected text after the value") }
        return value
    }
}

// MARK: - The scanner

private struct Parser {
    private let bytes: [UInt8]
    private var position = 0
    private(set) var line = 1
    private var root = TOMLTable(line: 0)
    /// Path of the table that `key = value` lines currently go into.
    private var currentPath: [String] = []

    init(_ text: String) { bytes = Array(text.utf8) }

    var atEnd: Bool { position >= bytes.count }
    private var peek: UInt8? { position < bytes.count ? bytes[position] : nil }
    private func peek(at offset: Int) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    func error(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }  // UTF-8 byte order mark
        while true {
            skipWhitespace()
            guard let c = peek else { break }
            switch c {
            case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                try expectEndOfLine()
            case UInt8(ascii: "["):
                try parseHeader()
            default:
                try parseKeyValue()
            }
        }
        return root
    }

    // MARK: Lines

    mutating func skipWhitespace() {
        while let c = peek, c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { position += 1 }
    }

    /// After a header or a value: optional spaces and comment, then a newline or the end.
    mutating func expectEndOfLine() throws(TOMLError) {
        skipWhitespace()
        if peek == UInt8(ascii: "#") {
            position += 1
            while let c = peek, c != UInt8(ascii: "\n") {
                if c < 0x20 && c != UInt8(ascii: "\t") && c != UInt8(ascii: "\r") {
                    throw error("control character in a comment")
                }
                position += 1
            }
        }
        if peek == UInt8(ascii: "\r") && peek(at: 1) == UInt8(ascii: "\n") { position += 1 }
        if peek == UInt8(ascii: "\n") {
            position += 1
            line += 1
        } else if !atEnd {
            throw error("expected the end of the line, found \(describe(peek!))")
        }
    }

    /// Inside arrays: any mix of whitespace, newlines and comments.
    private mutating func skipWhitespaceNewlinesAndComments() throws(TOMLError) {
        while true {
            skipWhitespace()
            guard let c = peek else { return }
            if c == UInt8(ascii: "#") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                try expectEndOfLine()
            } else {
                return
            }
        }
    }

    // MARK: Headers

    private mutating func parseHeader() throws(TOMLError) {
        let headerLine = line
        position += 1  // [
        let isArray = peek == UInt8(ascii: "[")
        if isArray { position += 1 }
        skipWhitespace()
        let path = try parseKeyPath()
        skipWhitespace()
        guard peek == UInt8(ascii: "]") else { throw error("expected ']' to close the table header") }
        position += 1
        if isArray {
            guard peek == UInt8(ascii: "]") else { throw error("expected ']]' to close the array-of-tables header") }
            position += 1
        }
        try expectEndOfLine()
        let display = path.joined(separator: ".")
        if isArray {
            try Self.appendTableArrayElement(&root, path: path[...], line: headerLine, display: display)
        } else {
            try Self.defineTable(&root, path: path[...], line: headerLine, display: display)
        }
        currentPath = path
    }

    /// `[a.b.c]`: walk (creating implicit tables), then mark the last one as defined.
    private static func defineTable(_ table: inout TOMLTable, path: ArraySlice<String>, line: Int,
                                    display: String) throws(TOMLError) {
        let key = path.first!
        let rest = path.dropFirst()
        guard let index = table.index(of: key) else {
            var child = TOMLTable(line: line)
            if rest.isEmpty {
                child.isDefinedByHeader = true
            } else {
                try defineTable(&child, path: rest, line: line, display: display)
            }
            table.append(key, .table(child), line: line)
            return
        }
        let existing = table.entries[index]
        switch existing.value {
        case .table(var child):
            if rest.isEmpty {
                if child.isDefinedByHeader || child.isDefinedByDottedKey {
                    throw TOMLError(line: line, message: "table [\(display)] is defined twice (first on line \(child.line))")
                }
                child.isDefinedByHeader = true
                child.line = line
            } else {
                try defineTable(&child, path: rest, line: line, display: display)
            }
            table.replace(at: index, with: .table(child))
        case .tableArray(var elements) where !rest.isEmpty:
            try defineTable(&elements[elements.count - 1], path: rest, line: line, display: display)
            table.replace(at: index, with: .tableArray(elements))
        default:
            throw TOMLError(line: line, message: "[\(display)]: key '\(key)' is already \(existing.value.typeName) (line \(existing.line))")
        }
    }

    /// `[[a.b]]`: walk to the parent, then append a fresh table to the array `b`.
    private static func appendTableArrayElement(_ table: inout TOMLTable, path: ArraySlice<String>, line: Int,
                                                display: String) throws(TOMLError) {
        let key = path.first!
        let rest = path.dropFirst()
        guard let index = table.index(of: key) else {
            if rest.isEmpty {
                table.append(key, .tableArray([TOMLTable(line: line)]), line: line)
            } else {
                var child = TOMLTable(line: line)
                try appendTableArrayElement(&child, path: rest, line: line, display: display)
                table.append(key, .table(child), line: line)
            }
            return
        }
        let existing = table.entries[index]
        switch existing.value {
        case .tableArray(var elements):
            if rest.isEmpty {
                elements.append(TOMLTable(line: line))
            } else {
                try appendTableArrayElement(&elements[elements.count - 1], path: rest, line: line, display: display)
            }
            table.replace(at: index, with: .tableArray(elements))
        case .table(var child) where !rest.isEmpty:
            try appendTableArrayElement(&child, path: rest, line: line, display: display)
            table.replace(at: index, with: .table(child))
        default:
            throw TOMLError(line: line, message: "[[\(display)]]: key '\(key)' is already \(existing.value.typeName) (line \(existing.line))")
        }
    }

    // MARK: Keys and values

    private mutating func parseKeyValue() throws(TOMLError) {
        let keyLine = line
        let keyPath = try parseKeyPath()
        skipWhitespace()
        guard peek == UInt8(ascii: "=") else {
            throw error("expected '=' after the key '\(keyPath.joined(separator: "."))'")
        }
        position += 1
        skipWhitespace()
        let value = try parseValue()
        try expectEndOfLine()
        try Self.insert(&root, tablePath: currentPath[...], keyPath: keyPath[...], value: value, line: keyLine)
    }

    /// Walks to the current table (the last element of an array of tables), then through the dotted
    /// key's implicit tables, and defines the final key.
    private static func insert(_ table: inout TOMLTable, tablePath: ArraySlice<String>, keyPath: ArraySlice<String>,
                               value: TOMLValue, line: Int) throws(TOMLError) {
        if let next = tablePath.first {
            let index = table.index(of: next)!  // the header created it
            switch table.entries[index].value {
            case .table(var child):
                try insert(&child, tablePath: tablePath.dropFirst(), keyPath: keyPath, value: value, line: line)
                table.replace(at: index, with: .table(child))
            case .tableArray(var elements):
                try insert(&elements[elements.count - 1], tablePath: tablePath.dropFirst(), keyPath: keyPath,
                           value: value, line: line)
                table.replace(at: index, with: .tableArray(elements))
            default:
                preconditionFailure("a header path always leads through tables")
            }
            return
        }
        let key = keyPath.first!
        let rest = keyPath.dropFirst()
        if rest.isEmpty {
            if let existing = table.entry(key) {
                throw TOMLError(line: line, message: "key '\(key)' is defined twice (first on line \(existing.line))")
            }
            table.append(key, value, line: line)
            return
        }
        // Dotted key: a.b = 1 defines table a (implicitly) holding b.
        if let index = table.index(of: key) {
            guard case .table(var child) = table.entries[index].value, !child.isDefinedByHeader else {
                throw TOMLError(line: line, message: "key '\(key)' is already defined (line \(table.entries[index].line))")
            }
            try insert(&child, tablePath: [], keyPath: rest, value: value, line: line)
            table.replace(at: index, with: .table(child))
        } else {
            var child = TOMLTable(line: line)
            child.isDefinedByDottedKey = true
            try insert(&child, tablePath: [], keyPath: rest, value: value, line: line)
            table.append(key, .table(child), line: line)
        }
    }

    /// `key`, `"quoted key"`, `'literal key'`, joined by dots.
    private mutating func parseKeyPath() throws(TOMLError) -> [String] {
        var path: [String] = []
        while true {
            skipWhitespace()
            guard let c = peek else { throw error("expected a key, found the end of the file") }
            if c == UInt8(ascii: "\"") {
                path.append(try parseBasicString())
            } else if c == UInt8(ascii: "'") {
                path.append(try parseLiteralString())
            } else if isBareKeyByte(c) {
                let start = position
                while let b = peek, isBareKeyByte(b) { position += 1 }
                path.append(String(decoding: bytes[start..<position], as: UTF8.self))
            } else {
                throw error("expected a key, found \(describe(c))")
            }
            skipWhitespace()
            guard peek == UInt8(ascii: ".") else { return path }
            position += 1
        }
    }

    private func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    mutating func parseValue() throws(TOMLError) -> TOMLValue {
        guard let c = peek, c != UInt8(ascii: "\n"), c != UInt8(ascii: "\r"), c != UInt8(ascii: "#") else {
            throw error("expected a value after '='")
        }
        switch c {
        case UInt8(ascii: "\""):
            if peek(at: 1) == UInt8(ascii: "\"") && peek(at: 2) == UInt8(ascii: "\"") {
                throw error("multi-line strings (\"\"\") are not supported; use a one-line string with \\n escapes")
            }
            return .string(try parseBasicString())
        case UInt8(ascii: "'"):
            if peek(at: 1) == UInt8(ascii: "'") && peek(at: 2) == UInt8(ascii: "'") {
                throw error("multi-line literal strings (''') are not supported")
            }
            return .string(try parseLiteralString())
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "{"):
            throw error("inline tables ({ … }) are not supported; use a [table] section")
        default:
            return try parseScalar()
        }
    }

    private mutating func parseArray() throws(TOMLError) -> TOMLValue {
        position += 1  // [
        var elements: [TOMLValue] = []
        while true {
            try skipWhitespaceNewlinesAndComments()
            guard let c = peek else { throw error("unterminated array (missing ']')") }
            if c == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            elements.append(try parseValue())
            try skipWhitespaceNewlinesAndComments()
            guard let next = peek else { throw error("unterminated array (missing ']')") }
            if next == UInt8(ascii: ",") {
                position += 1
            } else if next != UInt8(ascii: "]") {
                throw error("expected ',' or ']' in an array, found \(describe(next))")
            }
        }
    }

    /// A "basic string": escapes \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX; no raw control characters.
    private mutating func parseBasicString() throws(TOMLError) -> String {
        position += 1  // "
        var scalars = String.UnicodeScalarView()
        var run: [UInt8] = []  // raw UTF-8 between escapes
        func flush(_ run: inout [UInt8], into scalars: inout String.UnicodeScalarView) {
            scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
            run.removeAll(keepingCapacity: true)
        }
        while true {
            guard let c = peek, c != UInt8(ascii: "\n") else { throw error("unterminated string (missing '\"')") }
            position += 1
            switch c {
            case UInt8(ascii: "\""):
                flush(&run, into: &scalars)
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush(&run, into: &scalars)
                guard let e = peek else { throw error("unterminated string (missing '\"')") }
                position += 1
                switch e {
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "u"): scalars.append(try parseUnicodeEscape(digits: 4))
                case UInt8(ascii: "U"): scalars.append(try parseUnicodeEscape(digits: 8))
                default: throw error("unknown escape sequence \\\(describeRaw(e)) in a string")
                }
            default:
                if c < 0x20 && c != UInt8(ascii: "\t") || c == 0x7F {
                    throw error("control character in a string; write it as an escape")
                }
                run.append(c)
            }
        }
    }

    private mutating func parseUnicodeEscape(digits: Int) throws(TOMLError) -> Unicode.Scalar {
        guard position + digits <= bytes.count,
              let code = UInt32(String(decoding: bytes[position..<position + digits], as: UTF8.self), radix: 16),
              let scalar = Unicode.Scalar(code)
        else { throw error("invalid \\\(digits == 4 ? "u" : "U") escape (expected \(digits) hex digits of a Unicode scalar)") }
        position += digits
        return scalar
    }

    /// A 'literal string': no escapes at all (handy for Windows-style paths and regexes).
    private mutating func parseLiteralString() throws(TOMLError) -> String {
        position += 1  // '
        let start = position
        while let c = peek, c != UInt8(ascii: "'") {
            if c == UInt8(ascii: "\n") { break }
            if c < 0x20 && c != UInt8(ascii: "\t") || c == 0x7F { throw error("control character in a string") }
            position += 1
        }
        guard peek == UInt8(ascii: "'") else { throw error("unterminated literal string (missing \"'\")") }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        position += 1
        return text
    }

    /// Booleans, integers and floats: the token runs up to whitespace, ',', ']', '#' or the line end.
    private mutating func parseScalar() throws(TOMLError) -> TOMLValue {
        let start = position
        while let c = peek, !(c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n")
            || c == UInt8(ascii: "\r") || c == UInt8(ascii: ",") || c == UInt8(ascii: "]") || c == UInt8(ascii: "#")) {
            position += 1
        }
        let token = String(decoding: bytes[start..<position], as: UTF8.self)
        if token == "true" { return .boolean(true) }
        if token == "false" { return .boolean(false) }
        if let integer = Self.integer(token) { return .integer(integer) }
        if let float = Self.float(token) { return .float(float) }
        if token.contains(":") || (token.count >= 10 && token.dropFirst(4).first == "-") {
            throw error("dates and times are not supported (found \(token))")
        }
        if token.hasPrefix("0x") || token.hasPrefix("0o") || token.hasPrefix("0b") {
            throw error("only decimal integers are supported (found \(token))")
        }
        throw error("invalid value '\(token)' (strings need quotes: \"\(token)\")")
    }

    /// Decimal digits with single underscores between them, optional sign, no leading zeros.
    private static func digitsWithUnderscores(_ text: Substring) -> String? {
        guard let first = text.first, let last = text.last, first.isASCIIDigit, last.isASCIIDigit else { return nil }
        var digits = ""
        var previous: Character = " "
        for c in text {
            if c == "_" {
                guard previous.isASCIIDigit else { return nil }
            } else if c.isASCIIDigit {
                digits.append(c)
            } else {
                return nil
            }
            previous = c
        }
        return digits
    }

    private static func integer(_ token: String) -> Int64? {
        var body = Substring(token)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        guard let digits = digitsWithUnderscores(body), digits == "0" || !digits.hasPrefix("0") else { return nil }
        return Int64(sign + digits)
    }

    private static func float(_ token: String) -> Double? {
        var body = Substring(token)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        switch body {
        case "inf": return sign == "-" ? -.infinity : .infinity
        case "nan": return .nan
        default: break
        }
        // integer part [. fraction] [e|E [sign] exponent], at least one of fraction/exponent.
        let lower = body.lowercased()
        var mantissa = Substring(lower)
        var exponent: Substring? = nil
        if let e = lower.firstIndex(of: "e") {
            mantissa = lower[..<e]
            exponent = lower[lower.index(after: e)...]
        }
        var integerPart = mantissa
        var fraction: Substring? = nil
        if let dot = mantissa.firstIndex(of: ".") {
            integerPart = mantissa[..<dot]
            fraction = mantissa[mantissa.index(after: dot)...]
        }
        guard fraction != nil || exponent != nil,
              let intDigits = digitsWithUnderscores(integerPart), intDigits == "0" || !intDigits.hasPrefix("0")
        else { return nil }
        var text = sign + intDigits
        if let fraction {
            guard let fractionDigits = digitsWithUnderscores(fraction) else { return nil }
            text += "." + fractionDigits
        }
        if var exponent {
            var expSign = ""
            if let first = exponent.first, first == "+" || first == "-" {
                expSign = String(first)
                exponent = exponent.dropFirst()
            }
            guard let expDigits = digitsWithUnderscores(exponent) else { return nil }
            text += "e" + expSign + expDigits
        }
        return Double(text)
    }

    // MARK: Messages

    private func describe(_ c: UInt8) -> String {
        switch c {
        case UInt8(ascii: "\n"): "a line break"
        case 0x20..<0x7F: "'\(Character(Unicode.Scalar(c)))'"
        default: "byte 0x\(String(c, radix: 16))"
        }
    }

    private func describeRaw(_ c: UInt8) -> String {
        (0x20..<0x7F).contains(c) ? String(Character(Unicode.Scalar(c))) : "(byte 0x\(String(c, radix: 16)))"
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
