import ArgumentParser
import BertTraining
import Foundation

/// Which columns of a TSV/CSV/JSONL file hold the text, the optional second text and the label.
struct DataOptions: ParsableArguments {
    @Option(help: "The text column.") var textColumn = "text"
    @Option(help: "A second text column, for text pairs.") var pairColumn: String?
    @Option(help: "The label column.") var labelColumn = "label"
    @Flag(help: "Count and skip bad rows instead of stopping at the first.") var skipBadRows = false
    @Option(help: "What the label column holds: one class, several labels (joined by --label-separator, or a JSON list), or a number (default: single- or multi-label, read from the data).") var task: TaskChoice?
    @Option(help: "With --task multi-label: the separator between a row's labels.") var labelSeparator = "|"

    /// The columns as named settings (for a daemon job).
    var settings: [String: TrainingSettings.Value] {
        var v: [String: TrainingSettings.Value] = ["text_column": .string(textColumn), "label_column": .string(labelColumn),
                                                   "skip_bad_rows": .bool(skipBadRows), "label_separator": .string(labelSeparator)]
        if let pairColumn { v["pair_column"] = .string(pairColumn) }
        if let task { v["task"] = .string(task.rawValue) }
        return v
    }

    var datasetOptions: DatasetOptions {
        var o = DatasetOptions(textColumn: textColumn, pairColumn: pairColumn, labelColumn: labelColumn, skipBadRows: skipBadRows)
        o.task = task?.task ?? .singleLabel
        o.detectTask = task == nil
        o.labelSeparator = labelSeparator
        return o
    }
}

extension TrainingData {
    /// One line on stderr when the task was read from the data rather than named.
    func stateDetectedTask(separator: String) {
        guard let task = detectedTask else { return }
        let line = task == .multiLabel
            ? "task: multi-label, read from the data (rows with several labels joined by \"\(separator)\"); --task single-label reads each cell as one class\n"
            : "task: single-label, read from the data (one label per row); --task multi-label or regression to say otherwise\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
