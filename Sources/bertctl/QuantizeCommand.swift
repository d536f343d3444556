import ArgumentParser
import BertCore
import BertPipeline
import BertProtocol
import BertTokenizers
import BertTraining
import Foundation

/// `bertctl quantize`: the int8 quality gate. The validation file runs through the model in fp32
/// and int8 (BertTraining's QuantizationGate, over the evaluation `bertctl eval` runs); a passed
/// gate is recorded in the model directory's quantization.json, which bertd requires before it
/// serves the model with precision = "int8".
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Check a classifier in int8 against fp32 on labelled data; record the result for bertd.",
        discussion: """
          bertctl quantize --local runs/sentiment --validation ../shared/data/sst2/dev.tsv
          bertctl quantize --local runs/sentiment --validation dev.tsv --min-agreement 0.995 --max-drop 0.2

        Reports label agreement between the two precisions, accuracy and macro-F1 in each and the \
        change. A model without a classification head (a sentence-embedding model such as \
        all-MiniLM-L6-v2) is checked on zero-shot classification against the file's labels, as bertd \
        classifies with "labels". The gate fails (exit 1, nothing recorded) when agreement is below --min-agreement or \
        accuracy drops by more than --max-drop points; --force records a failed gate anyway, which \
        bertd then accepts. On success, DIR/quantization.json holds the result (with a fingerprint \
        of the weights: retraining invalidates it) and bertd loads the model with precision = "int8".
        """)

    @Option(name: .customLong("local"), help: "The model directory (with a classification head).") var directory: String
    @Option(help: "Labelled validation data: .tsv, .csv or .jsonl with a header.") var validation: String
    @Option(help: "The least share of texts whose int8 label must equal fp32's (0…1).") var minAgreement = 0.99
    @Option(help: "The most accuracy may drop, in percentage points.") var maxDrop = 0.5
    @Flag(help: "Record the result even when the gate fails (bertd then serves the model in int8).") var force = false
    @Option(help: "Tokens per text, special tokens included.") var maxLength = 512
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @OptionGroup var columns: DataOptions
    @Flag(help: "Print the record as JSON.") var json = false

    func validate() throws {
        if !(0...1).contains(minAgreement) { throw ValidationError("--min-agreement must be within 0…1 (0.99 is 99 %)") }
        if maxDrop < 0 { throw ValidationError("--max-drop must not be negative") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        ComputeThreads.set(threads ?? ComputeThreads.cores)
        let url = URL(fileURLWithPath: directory)
        let record: QuantizationRecord
        let result: QuantizationGate.Result
        do {
            let textModel = try TextModel(directory: url)
            let model = textModel.model
            let zeroShot = !model.hasClassificationHead
            var options = columns.datasetOptions
            options.task = zeroShot ? .singleLabel : model.config.task  // zero-shot picks one label per text
            options.detectTask = options.detectTask && !zeroShot
            let dataset = try Dataset.load(URL(fileURLWithPath: validation), options: options)
            // A classifier's own labels; zero-shot: the file's, as texts to compare with.
            let labels = zeroShot ? try LabelSet(inferredFrom: [dataset]) : try LabelSet(names: model.labels, minimum: 1)
            let labelled = try dataset.labelled(with: labels, skipBadRows: columns.skipBadRows, task: options.task,
                                                separator: columns.labelSeparator)
            let data = TokenizedDataset(labelled, tokenizer: textModel.tokenizer, maxLength: min(maxLength, model.config.maxSequenceLength),
                                        threads: ComputeThreads.current)
            let gate = QuantizationGate(minAgreement: minAgreement, maxAccuracyDropPoints: maxDrop)
            if zeroShot {
                let int8 = textModel.converted(to: .int8)
                let (fp32Workspace, int8Workspace) = (textModel.makeWorkspace(), int8.makeWorkspace())
                let fp32Labels = try ZeroShotLabels(labels: labels.names, model: textModel, workspace: fp32Workspace)
                let int8Labels = try ZeroShotLabels(labels: labels.names, model: int8, workspace: int8Workspace)
                result = try gate.evaluate(data, labelNames: labels.names,
                                           fp32: { try fp32Labels.logits($0, model: textModel.model, workspace: fp32Workspace) },
                                           int8: { try int8Labels.logits($0, model: int8.model, workspace: int8Workspace) })
            } else {
                result = try gate.evaluate(data, model: model)
            }
            record = QuantizationRecord(
                precision: .int8, passed: result.passed, forced: force && !result.passed, failures: result.failures,
                agreement: result.agreement, minAgreement: minAgreement, accuracyChangePoints: result.accuracyChangePoints,
                macroF1ChangePoints: result.macroF1ChangePoints, maxAccuracyDropPoints: maxDrop,
                fp32: .init(accuracy: result.fp32.accuracy, macroF1: result.fp32.macroF1),
                int8: .init(accuracy: result.int8.accuracy, macroF1: result.int8.macroF1),
                examples: result.examples, validationFile: URL(fileURLWithPath: validation).standardizedFileURL.path, date: Date(),
                bertdVersion: bertdVersion, kernel: QuantizedKernel.best.rawValue, weights: try WeightsFingerprint(directory: url),
                zeroShotLabels: zeroShot ? labels.names : nil)
            if result.passed || force { try record.write(directory: url) }
        } catch let e as TrainingDataError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        } catch let e as BertError {
            throw CommandFailure(description: "cannot check \(directory): \(e.message) [\(e.code.rawValue)]")
        } catch let e as TokenizerError {
            throw CommandFailure(description: "cannot load the tokenizer of \(directory): \(e.description)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
        } else {
            let how = record.zeroShotLabels.map { "zero-shot against " + $0.joined(separator: ", ") } ?? "the model's classifier"
            print(String(format: "%d texts  label agreement %.2f %%  (%@; kernel %@)", result.examples, result.agreement * 100, how, record.kernel))
            print(String(format: "fp32  accuracy %.4f  macro-F1 %.4f", result.fp32.accuracy, result.fp32.macroF1))
            print(String(format: "int8  accuracy %.4f  macro-F1 %.4f  (change %+.2f and %+.2f points)", result.int8.accuracy, result.int8.macroF1,
                         result.accuracyChangePoints, result.macroF1ChangePoints))
        }
        let file = url.appendingPathComponent(QuantizationRecord.fileName).path
        if result.passed {
            FileHandle.standardError.write(Data("int8 gate passed: wrote \(file)\n".utf8))
        } else if force {
            FileHandle.standardError.write(Data("int8 gate failed (\(result.failureMessage)); recorded anyway (--force) in \(file)\n".utf8))
        } else {
            throw CommandFailure(description: "int8 refused: \(result.failureMessage); nothing recorded [quantization_gate_failed]")
        }
    }
}
