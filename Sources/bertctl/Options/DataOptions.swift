import ArgumentParser
import BertTraining

/// Which columns of a TSV/CSV/JSONL file hold the text, the optional second text and the label.
struct DataOptions: ParsableArguments {
    @Option(help: "The text column.") var textColumn = "text"
    @Option(help: "A second text column, for text pairs.") var pairColumn: String?
    @Option(help: "The label column.") var labelColumn = "label"
    @Flag(help: "Count and skip bad rows instead of stopping at the first.") var skipBadRows = false
    @Option(help: "What the label column holds: one class, several labels (joined by --label-separator, or a JSON list), or a number.") var task = TaskChoice.singleLabel
    @Option(help: "With --task multi-label: the separator between a row's labels.") var labelSeparator = "|"

    /// The columns as named settings (for a daemon job).
    var settings: [String: TrainingSettings.Value] {
        var v: [String: TrainingSettings.Value] = ["text_column": .string(textColumn), "label_column": .string(labelColumn),
                                                   "skip_bad_rows": .bool(skipBadRows), "task": .string(task.rawValue),
                                                   "label_separator": .string(labelSeparator)]
        if let pairColumn { v["pair_column"] = .string(pairColumn) }
        return v
    }

    var datasetOptions: DatasetOptions {
        var o = DatasetOptions(textColumn: textColumn, pairColumn: pairColumn, labelColumn: labelColumn, skipBadRows: skipBadRows)
        o.task = task.task
        o.labelSeparator = labelSeparator
        return o
    }
}
