import ArgumentParser
import BertCore
import BertBaselines
import BertExplanations
import BertPipeline
import BertProtocol
import BertTokenizers
import BertTraining
import Foundation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a classifier on a labelled file: loss, accuracy, per-class P/R/F1, confusion matrix, ROC-AUC.",
        discussion: """
          bertctl eval --local runs/sentiment --data ../shared/data/sst2/dev.tsv
          bertctl eval --local runs/sentiment --data dev.tsv --errors 20 --errors-html mistakes.html

        --errors N adds the N most confident mistakes (text, true and predicted label, \
        probability) with each word's attribution to the predicted label (integrated gradients, \
        as bertctl explain): what a person reads to find label noise or a shortcut the model learned.
        """)

    @Option(name: .customLong("local"), help: "The model directory (with a classification head).") var directory: String
    @Option(help: "Labelled data: .tsv, .csv or .jsonl with a header.") var data: String
    @Option(help: "Tokens per text, special tokens included.") var maxLength = 512
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @OptionGroup var columns: DataOptions
    @OptionGroup var windows: WindowOptions
    @Flag(help: "Print the metrics as JSON.") var json = false
    @Option(help: "Also show the N most confident mistakes, with their words highlighted by attribution.") var errors = 0
    @Option(help: "Write the mistakes as a self-contained HTML page (with --errors).") var errorsHtml: String?
    @Option(help: "Write the mistakes as an SVG drawing (with --errors).") var errorsSvg: String?
    @Option(help: "Integrated-gradients steps for the mistakes' explanations.") var steps = ExplainRequest.defaultSteps

    func validate() throws {
        if errors < 0 { throw ValidationError("--errors must not be negative") }
        if errors == 0 && (errorsHtml != nil || errorsSvg != nil) { throw ValidationError("--errors-html and --errors-svg need --errors N") }
        if !(1...Explainer.maxSteps).contains(steps) { throw ValidationError("--steps must be within 1…\(Explainer.maxSteps)") }
    }

    func run() throws {
        ComputeThreads.set(threads ?? ComputeThreads.cores)
        do {
            let url = URL(fileURLWithPath: directory)
            if LinearBaseline.isBaselineDirectory(url) { return try evaluateBaseline(url) }
            let model = try ModelLoader.load(directory: url)
            guard model.canClassify else { throw CommandFailure(description: "\(directory) has no classification head to evaluate") }
            let tokenizer = try Tokenizer(directory: url)
            // The task is the model's (config.json problem_type), whatever --task says.
            let task = model.config.task
            var datasetOptions = columns.datasetOptions
            datasetOptions.task = task
            let labelled = try Dataset.load(URL(fileURLWithPath: data), options: datasetOptions)
                .labelled(with: try LabelSet(names: model.labels, minimum: 1), skipBadRows: columns.skipBadRows, task: task,
                          separator: columns.labelSeparator)
            // Long documents: the model's windows (or --window's), else truncation at --max-length.
            let tokenized: TokenizedDataset
            let policy = try windows.policy(model: model.config.longDocuments, maxSequenceLength: model.config.maxSequenceLength)
            if let policy {
                tokenized = try TokenizedDataset(labelled, tokenizer: tokenizer, windows: policy, threads: ComputeThreads.current)
                if !json {
                    print(String(format: "windows of %d tokens (overlap %d, %@): %.2f per text", policy.window, policy.overlap,
                                 policy.aggregation.rawValue, Double(tokenized.sequenceCount) / Double(max(tokenized.count, 1))))
                }
            } else {
                tokenized = TokenizedDataset(labelled, tokenizer: tokenizer, maxLength: min(maxLength, model.config.maxSequenceLength),
                                             threads: ComputeThreads.current)
            }
            let (metrics, logits) = try Evaluation.run(tokenized, model: model)
            // A multi-label model with decision thresholds: its metrics at them as well as at 0.5.
            let configured = model.config.decisionThresholds
            let atThresholds = (task == .multiLabel || task == .singleLabel && model.labels.count == 2) && !configured.isEmpty
                ? ClassificationMetrics(outputs: logits, data: tokenized, labelNames: model.labels,
                                        thresholds: model.labels.map { Double(configured[$0] ?? 0.5) })
                : nil
            guard errors == 0 || task == .singleLabel else {
                throw CommandFailure(description: "--errors lists the mistakes of single-label classifiers; this model is \(task.rawValue)")
            }
            let mistakes = errors > 0
                ? try Mistakes.mostConfident(errors, logits: logits, data: labelled, directory: url, windows: policy, steps: steps) : []
            if errors > 0 { try writeReports(mistakes) }
            if try printMetrics(metrics, atThresholds: atThresholds, task: task, labels: model.labels,
                                extraJSON: errors > 0 ? ["errors": mistakes.map(\.json)] : [:]) { return }
            if errors > 0 {
                print("\nthe \(mistakes.count) most confident mistakes (words shaded by their attribution to the predicted label)")
                let view = TerminalView(colour: isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
                for m in mistakes {
                    print(String(format: "line %d: true %@, predicted %@ (p=%.4f)", m.line, m.trueLabel, m.predicted, m.probability))
                    print("  " + view.highlight(m.explanation, values: m.explanation.attributions?.first?.words ?? [], texts: m.texts))
                }
            }
        } catch let e as ExplanationError {
            throw CommandFailure(description: "cannot explain the mistakes: \(e.description)")
        } catch let e as TrainingDataError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        } catch let e as BertError {
            throw CommandFailure(description: "cannot evaluate \(directory): \(e.message) [\(e.code.rawValue)]")
        } catch let e as TokenizerError {
            throw CommandFailure(description: "cannot load the tokenizer of \(directory): \(e.description)")
        }
    }

    /// The metrics as JSON (then true) or as the text report: summary, per-label table, confusion.
    private func printMetrics(_ metrics: ClassificationMetrics, atThresholds: ClassificationMetrics?, task: Task, labels: [String],
                              extraJSON: [String: Any]) throws -> Bool {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var object = try JSONSerialization.jsonObject(with: try encoder.encode(metrics)) as? [String: Any] ?? [:]
            object.merge(extraJSON) { _, new in new }
            if let atThresholds {
                object["at_decision_thresholds"] = try JSONSerialization.jsonObject(with: try encoder.encode(atThresholds))
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return true
        }
        if task == .singleLabel {
            print(String(format: "%d examples  accuracy %.4f  macro P %.4f  R %.4f  F1 %.4f  loss %.4f%@", metrics.examples, metrics.accuracy,
                         metrics.macroPrecision, metrics.macroRecall, metrics.macroF1, metrics.loss,
                         metrics.rocAUC.map { String(format: "  roc_auc %.4f", $0) } ?? ""))
            if let atThresholds {
                print(String(format: "at the model's decision threshold: accuracy %.4f  macro P %.4f  R %.4f  F1 %.4f", atThresholds.accuracy,
                             atThresholds.macroPrecision, atThresholds.macroRecall, atThresholds.macroF1))
            }
        } else {
            print("\(metrics.examples) examples (\(task.rawValue))\(task == .multiLabel ? " at 0.5" : ""): \(metrics.summary)")
            if let atThresholds { print("\(metrics.examples) examples at the model's decision thresholds: \(atThresholds.summary)") }
        }
        guard task != .regression else { return false }
        print("")
        printTable(header: ["LABEL", "PRECISION", "RECALL", "F1", "SUPPORT"],
                   rows: (atThresholds ?? metrics).perClass.map { [$0.label, String(format: "%.4f", $0.precision), String(format: "%.4f", $0.recall),
                                                                 String(format: "%.4f", $0.f1), "\($0.support)"] })
        if task == .singleLabel {
            print("\nconfusion (rows: true, columns: predicted)")
            printTable(header: [""] + labels, rows: zip(labels, metrics.confusion).map { [$0] + $1.map(String.init) })
        }
        return false
    }

    /// A linear baseline directory: its metrics on the data, reported as a transformer's are.
    private func evaluateBaseline(_ url: URL) throws {
        guard errors == 0 else { throw CommandFailure(description: "--errors explains a transformer's mistakes; \(directory) is a linear baseline") }
        let baseline = try LinearBaseline(directory: url)
        var datasetOptions = columns.datasetOptions
        datasetOptions.task = baseline.task
        let labelled = try Dataset.load(URL(fileURLWithPath: data), options: datasetOptions)
            .labelled(with: try LabelSet(names: baseline.labels, minimum: 1), skipBadRows: columns.skipBadRows, task: baseline.task,
                      separator: columns.labelSeparator)
        let started = Date()
        let metrics = baseline.evaluate(labelled)
        let seconds = Date().timeIntervalSince(started)
        if try printMetrics(metrics, atThresholds: nil, task: baseline.task, labels: baseline.labels,
                            extraJSON: ["seconds": seconds, "model_kind": LinearBaseline.kind]) { return }
        print(String(format: "\n%d texts in %.2f s (%.3f ms a text), linear baseline", labelled.count, seconds, seconds * 1000 / Double(max(labelled.count, 1))))
    }

    private func writeReports(_ mistakes: [Mistakes.Mistake]) throws {
        let report = ExplanationReport(
            title: "The \(mistakes.count) most confident mistakes of \(URL(fileURLWithPath: directory).lastPathComponent) on \(URL(fileURLWithPath: data).lastPathComponent)",
            items: mistakes.map { m in
                .init(texts: m.texts, caption: String(format: "line %d: true %@, predicted %@ (p = %.4f)", m.line, m.trueLabel, m.predicted, m.probability),
                      attributions: m.explanation)
            })
        for (path, content) in [(errorsHtml, { report.html }), (errorsSvg, { report.svg })] {
            guard let path else { continue }
            do { try content().write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw CommandFailure(description: "cannot write \(path): \(error.localizedDescription)")
            }
            FileHandle.standardError.write(Data("wrote \(path)\n".utf8))
        }
    }
}

/// The most confident mistakes of an evaluation, each explained.
enum Mistakes {
    struct Mistake {
        var line: Int
        var texts: [String]
        var trueLabel: String
        var predicted: String
        var probability: Float
        var explanation: ExplainedText
        var explanationJSON: Any

        var json: [String: Any] {
            ["line": line, "text": texts[0], "pair": texts.count > 1 ? texts[1] : NSNull(), "true_label": trueLabel,
             "predicted_label": predicted, "probability": Double(probability), "explanation": explanationJSON]
        }
    }

    /// The n mistakes whose wrong label had the highest probability, explained for that label
    /// (over every window when the evaluation read the texts in `windows`).
    static func mostConfident(_ n: Int, logits: [[Float]], data: LabelledDataset, directory: URL, windows: LongDocumentPolicy?,
                              steps: Int) throws -> [Mistake] {
        let loaded = try TextModel(directory: directory)
        let textModel = try windows.map { try loaded.readingLongDocuments($0) } ?? loaded
        var wrong: [(index: Int, predicted: Int, probability: Float)] = []
        for (i, row) in logits.enumerated() {
            let c = Classification(logits: row, model: textModel.model, truncatedTokens: 0)
            if c.bestIndex != data.labels[i] { wrong.append((i, c.bestIndex, c.score)) }
        }
        let chosen = wrong.sorted { $0.probability > $1.probability }.prefix(n)
        let explainer = try InProcessExplainer(textModel: textModel)
        var settings = InProcessExplainer.Settings()
        settings.steps = steps
        return try chosen.map { w in
            let example = data.dataset.examples[w.index]
            settings.labels = [textModel.labels[w.predicted]]
            let object = try explainer.explain([example.text], pairs: example.pair.map { [$0] }, settings: settings)[0]
            let parsed = try JSONSerialization.jsonObject(with: Data(object.text.utf8))
            let explained = try ExplainedText.decode(result: ["explanations": [parsed]])[0]
            return Mistake(line: example.line, texts: [example.text] + (example.pair.map { [$0] } ?? []),
                           trueLabel: textModel.labels[data.labels[w.index]], predicted: textModel.labels[w.predicted],
                           probability: w.probability, explanation: explained, explanationJSON: parsed)
        }
    }
}
