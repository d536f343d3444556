import ArgumentParser
import BertTraining

/// Which columns of a TSV/CSV/JSONL file hold the text, the optional second text and the label.
struct DataOptions: ParsableArguments {
    @Option(help: "The text column.") var textColumn = "text"
    @Option(help: "A second text column, for text pairs.") var pairColumn: String?
    @Option(help: "The label column.") var labelColumn = "label"
    @Flag(help: "Count and skip bad rows instead of stopping at the first.") var skipBadRows = false

    var datasetOptions: DatasetOptions {
        DatasetOptions(textColumn: textColumn, pairColumn: pairColumn, labelColumn: labelColumn, skipBadRows: skipBadRows)
    }
}
