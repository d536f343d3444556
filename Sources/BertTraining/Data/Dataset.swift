import Foundation

/// One labelled example as read from a file; `line` is where it starts, for error messages.
public struct Example: Sendable, Equatable {
    public var text: String
    /// The second text of a pair task (NLI, paraphrase), or nil.
    public var pair: String?
    /// The label as written: a name, or an integer in its decimal form.
    public var label: String
    public var line: Int

    public init(text: String, pair: String? = nil, label: String, line: Int = 0) {
        self.text = text
        self.pair = pair
        self.label = label
        self.line = line
    }
}

public enum DatasetFormat: String, Sendable, CaseIterable {
    case tsv, csv, jsonl

    /// The format a file name implies: .tsv/.tab, .csv, .jsonl/.ndjson/.json.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "tsv", "tab": self = .tsv
        case "csv": self = .csv
        case "jsonl", "ndjson", "json": self = .jsonl
        default: return nil
        }
    }
}

/// Which columns hold what, and how strictly rows are checked.
public struct DatasetOptions: Sendable, Equatable {
    public var textColumn: String
    /// The second text of a pair task; nil for single texts.
    public var pairColumn: String?
    public var labelColumn: String
    /// nil: from the file extension.
    public var format: DatasetFormat?
    /// Count and skip bad rows instead of failing on the first one.
    public var skipBadRows: Bool
    /// What the label column holds: a class, a set of labels (joined by `labelSeparator`, or a
    /// JSON list; empty for none), or a number.
    public var task: Task = .singleLabel
    public var labelSeparator: String = "|"
    /// No task was named: `TrainingData.load` decides between single- and multi-label from the
    /// training file (rows with several labels, joined by the separator or as JSON lists, make it
    /// multi-label) and says so in `detectedTask`. Regression is never guessed.
    public var detectTask = false

    public init(textColumn: String = "text", pairColumn: String? = nil, labelColumn: String = "label",
                format: DatasetFormat? = nil, skipBadRows: Bool = false) {
        self.textColumn = textColumn
        self.pairColumn = pairColumn
        self.labelColumn = labelColumn
        self.format = format
        self.skipBadRows = skipBadRows
    }
}

/// The examples of one file, in file order, with string labels (see `LabelSet` for ids).
public struct Dataset: Sendable {
    /// The file the examples came from (for messages and the report).
    public let source: String
    public var examples: [Example]
    /// Rows skipped as bad (only with `skipBadRows`), and the first few reasons.
    public var skippedRows: Int
    public var skippedReasons: [String]

    public var count: Int { examples.count }

    public init(source: String, examples: [Example], skippedRows: Int = 0, skippedReasons: [String] = []) {
        self.source = source
        self.examples = examples
        self.skippedRows = skippedRows
        self.skippedReasons = skippedReasons
    }

    /// Reads a TSV, CSV or JSONL file with a header (JSONL: keys of each object).
    public static func load(_ url: URL, options: DatasetOptions = DatasetOptions()) throws -> Dataset {
        let path = url.path
        guard let format = options.format ?? DatasetFormat(pathExtension: url.pathExtension) else {
            throw TrainingDataError(.unsupportedFormat, "\(path): cannot tell the format from the extension \".\(url.pathExtension)\"; name it .tsv, .csv or .jsonl or give the format")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingDataError(.fileNotFound, "\(path) does not exist or cannot be read")
        }
        guard String(data: data, encoding: .utf8) != nil else {
            throw TrainingDataError(.badRow, "\(path) is not valid UTF-8 text")
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // Excel writes a BOM
        var collector = RowCollector(source: path, options: options)
        do {
            switch format {
            case .tsv, .csv:
                let records = try DelimitedParser.records(bytes, delimiter: UInt8(ascii: format == .tsv ? "\t" : ","),
                                                          quoting: format == .csv)
                try collector.addDelimited(records)
            case .jsonl:
                try collector.addJSONLines(bytes)
            }
        } catch let error as TrainingDataError where !error.message.hasPrefix(path) {
            throw TrainingDataError(error.code, "\(path): \(error.message)")
        }
        guard !collector.examples.isEmpty else {
            throw TrainingDataError(.notEnoughData, "\(path) has no usable rows" + (collector.skipped > 0 ? " (\(collector.skipped) bad rows skipped)" : ""))
        }
        return Dataset(source: path, examples: collector.examples, skippedRows: collector.skipped, skippedReasons: collector.reasons)
    }

    /// The examples at `indices`, in that order (splits and folds).
    public func subset(_ indices: [Int]) -> Dataset {
        Dataset(source: source, examples: indices.map { examples[$0] }, skippedRows: 0)
    }
}
