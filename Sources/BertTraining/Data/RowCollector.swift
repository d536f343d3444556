import Foundation

/// Turns raw rows into examples, checking each and either failing on the first bad one (with
/// its file and line) or counting and skipping it.
struct RowCollector {
    let source: String
    let options: DatasetOptions
    private(set) var examples: [Example] = []
    private(set) var skipped = 0
    private(set) var reasons: [String] = []

    init(source: String, options: DatasetOptions) {
        self.source = source
        self.options = options
    }

    private mutating func reject(_ line: Int, _ reason: String) throws {
        let error = TrainingDataError.row(.badRow, file: source, line: line, reason)
        guard options.skipBadRows else { throw error }
        skipped += 1
        if reasons.count < 10 { reasons.append(error.message) }
    }

    /// Checks one row's values and keeps it as an example.
    private mutating func add(text: String?, pair: String??, label: String?, line: Int) throws {
        guard let text else { return try reject(line, "no \"\(options.textColumn)\" value") }
        guard !text.allSatisfy(\.isWhitespace) else { return try reject(line, "the text (\"\(options.textColumn)\") is empty") }
        var pairText: String?
        if let pairColumn = options.pairColumn {
            guard let value = pair ?? nil else { return try reject(line, "no \"\(pairColumn)\" value") }
            guard !value.allSatisfy(\.isWhitespace) else { return try reject(line, "the second text (\"\(pairColumn)\") is empty") }
            pairText = value
        }
        guard let label else { return try reject(line, "no \"\(options.labelColumn)\" value") }
        let trimmed = label.trimmingCharacters(in: .whitespaces)
        // An empty label set is a row of a multi-label file like any other.
        guard !trimmed.isEmpty || options.task == .multiLabel else { return try reject(line, "the label (\"\(options.labelColumn)\") is empty") }
        examples.append(Example(text: text, pair: pairText, label: trimmed, line: line))
    }

    // MARK: TSV / CSV

    mutating func addDelimited(_ records: [RawRecord]) throws {
        guard let header = records.first else { throw TrainingDataError(.notEnoughData, "the file is empty (it needs a header line)") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        func column(_ name: String) throws -> Int {
            guard let index = names.firstIndex(of: name) else {
                throw TrainingDataError(.missingColumn, "the header has no column \"\(name)\" (it has: \(names.map { "\"\($0)\"" }.joined(separator: ", "))); choose the columns by name")
            }
            return index
        }
        let textIndex = try column(options.textColumn)
        let labelIndex = try column(options.labelColumn)
        let pairIndex = try options.pairColumn.map(column)
        for record in records.dropFirst() {
            if let problem = record.problem { try reject(record.line, problem); continue }
            guard record.fields.count == names.count else {
                try reject(record.line, "\(record.fields.count) fields where the header has \(names.count)")
                continue
            }
            try add(text: record.fields[textIndex], pair: pairIndex.map { record.fields[$0] },
                    label: record.fields[labelIndex], line: record.line)
        }
    }

    // MARK: JSONL

    mutating func addJSONLines(_ bytes: [UInt8]) throws {
        var line = 0
        for slice in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            line += 1
            var row = Data(slice)
            if row.last == UInt8(ascii: "\r") { row.removeLast() }
            if row.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: row)) as? [String: Any] else {
                try reject(line, "not a JSON object")
                continue
            }
            let label: String?
            switch Self.labelString(object[options.labelColumn], options: options) {
            case .success(let value): label = value
            case .failure(let problem): try reject(line, problem.description); continue
            }
            guard object[options.textColumn] == nil || object[options.textColumn] is String else {
                try reject(line, "\"\(options.textColumn)\" is not a string")
                continue
            }
            try add(text: object[options.textColumn] as? String,
                    pair: options.pairColumn.map { object[$0] as? String }, label: label, line: line)
        }
    }

    /// A JSON label as a string: strings as they are, integral numbers in decimal (any number for
    /// regression), a list of strings joined by the separator (multi-label). JSON booleans arrive
    /// as NSNumber too (objCType "c") and are refused.
    private static func labelString(_ value: Any?, options: DatasetOptions) -> Result<String?, LabelProblem> {
        guard let value, !(value is NSNull) else { return .success(nil) }
        if let s = value as? String { return .success(s) }
        if options.task == .multiLabel, let list = value as? [Any] {
            guard let names = list as? [String], names.count == list.count else {
                return .failure(LabelProblem(description: "a label list must hold strings"))
            }
            return .success(names.joined(separator: options.labelSeparator))
        }
        if let n = value as? NSNumber, String(cString: n.objCType) != "c" {
            let d = n.doubleValue
            if options.task == .regression { return .success("\(d)") }
            guard d == d.rounded(), abs(d) < 1e15 else { return .failure(LabelProblem(description: "the label \(n) is not an integer")) }
            return .success(String(Int64(d)))
        }
        return .failure(LabelProblem(description: "the label must be a string or an integer"))
    }

    struct LabelProblem: Error { let description: String }
}
