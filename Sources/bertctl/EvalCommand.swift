import ArgumentParser
import BertCore
import BertTokenizers
import BertTraining
import Foundation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a classifier on a labelled file: loss, accuracy, per-class P/R/F1, confusion matrix, ROC-AUC.",
        discussion: "  bertctl eval --local runs/sentiment --data ../shared/data/sst2/dev.tsv")

    @Option(name: .customLong("local"), help: "The model directory (with a classification head).") var directory: String
    @Option(help: "Labelled data: .tsv, .csv or .jsonl with a header.") var data: String
    @Option(help: "Tokens per text, special tokens included.") var maxLength = 512
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @OptionGroup var columns: DataOptions
    @Flag(help: "Print the metrics as JSON.") var json = false

    func run() throws {
        ComputeThreads.set(threads ?? ComputeThreads.cores)
        do {
            let url = URL(fileURLWithPath: directory)
            let model = try ModelLoader.load(directory: url)
            guard model.hasClassificationHead else { throw CommandFailure(description: "\(directory) has no classification head to evaluate") }
            let tokenizer = try Tokenizer(directory: url)
            let labelled = try Dataset.load(URL(fileURLWithPath: data), options: columns.datasetOptions)
                .labelled(with: try LabelSet(names: model.labels), skipBadRows: columns.skipBadRows)
            let tokenized = TokenizedDataset(labelled, tokenizer: tokenizer, maxLength: min(maxLength, model.config.maxSequenceLength),
                                             threads: ComputeThreads.current)
            let metrics = try Evaluation.run(tokenized, model: model).metrics
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                return print(String(decoding: try encoder.encode(metrics), as: UTF8.self))
            }
            print(String(format: "%d examples  accuracy %.4f  macro P %.4f  R %.4f  F1 %.4f  loss %.4f%@", metrics.examples, metrics.accuracy,
                         metrics.macroPrecision, metrics.macroRecall, metrics.macroF1, metrics.loss,
                         metrics.rocAUC.map { String(format: "  roc_auc %.4f", $0) } ?? ""))
            print("")
            printTable(header: ["LABEL", "PRECISION", "RECALL", "F1", "SUPPORT"],
                       rows: metrics.perClass.map { [$0.label, String(format: "%.4f", $0.precision), String(format: "%.4f", $0.recall),
                                                     String(format: "%.4f", $0.f1), "\($0.support)"] })
            print("\nconfusion (rows: true, columns: predicted)")
            printTable(header: [""] + model.labels,
                       rows: zip(model.labels, metrics.confusion).map { [$0] + $1.map(String.init) })
        } catch let e as TrainingDataError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        } catch let e as BertError {
            throw CommandFailure(description: "cannot evaluate \(directory): \(e.message) [\(e.code.rawValue)]")
        } catch let e as TokenizerError {
            throw CommandFailure(description: "cannot load the tokenizer of \(directory): \(e.description)")
        }
    }
}
