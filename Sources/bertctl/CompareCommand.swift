import ArgumentParser
import BertBaselines
import BertCore
import BertFewShot
import BertTokenizers
import BertTraining
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Score several trained models on one test file: one table of quality, cost and size.",
        discussion: """
        Any mix of fine-tuned transformers (full, LoRA merged, head-only, …) and linear baselines, \
        all evaluated here on the same file: accuracy, macro-F1, ROC-AUC (multi-label models: subset \
        accuracy, micro-F1 too, and ROC-AUC averaged over the labels), training time (from each directory's training report), inference milliseconds per \
        text (measured now, on this machine), parameters and size on disk. Sorted by macro-F1.
          bertctl compare runs/baseline runs/full runs/lora/merged --data sst2/dev.tsv
          bertctl compare runs/* --data test.tsv --markdown comparison.md
        """)

    @Argument(help: "Model directories: Hugging Face classifiers or linear baselines.") var directories: [String]
    @Option(help: "Labelled test data: .tsv, .csv or .jsonl with a header.") var data: String
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @OptionGroup var columns: DataOptions
    @Flag(help: "Print the rows as JSON.") var json = false
    @Option(help: "Also write the table as Markdown to this file.") var markdown: String?

    func validate() throws {
        if directories.isEmpty { throw ValidationError("name at least one model directory") }
    }

    func run() throws {
        ComputeThreads.set(threads ?? ComputeThreads.cores)
        var rows: [ComparedModel] = []
        for directory in directories {
            do {
                rows.append(try ComparedModel.score(URL(fileURLWithPath: directory), data: URL(fileURLWithPath: data), columns: columns))
            } catch let e as TrainingDataError {
                throw CommandFailure(description: "\(directory): \(e.message) [\(e.code.rawValue)]")
            } catch let e as BertError {
                throw CommandFailure(description: "\(directory): \(e.message) [\(e.code.rawValue)]")
            }
        }
        rows.sort { $0.metrics.macroF1 > $1.metrics.macroF1 }
        if Set(rows.map(\.task)).count > 1 {
            throw CommandFailure(description: "the models were trained for different tasks (\(Set(rows.map(\.task.rawValue)).sorted().joined(separator: ", "))): their metrics do not compare")
        }
        let cpu = CPUInfo().model
        if json {
            let object: [String: Any] = ["data": data, "cpu": cpu, "threads": ComputeThreads.current, "models": rows.map(\.json)]
            let bytes = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: bytes, as: UTF8.self))
        } else {
            printTable(header: ComparedModel.header(task: rows.first?.task ?? .singleLabel), rows: rows.map(\.cells))
            print("\n\(rows.first?.metrics.examples ?? 0) texts of \(data); inference on \(cpu), \(ComputeThreads.current) threads")
        }
        if let markdown {
            let header = ComparedModel.header(task: rows.first?.task ?? .singleLabel)
            var lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: " --- |", count: header.count)]
            lines += rows.map { "| " + $0.cells.joined(separator: " | ") + " |" }
            lines.append("\n\(rows.first?.metrics.examples ?? 0) texts of `\(data)`; inference on \(cpu), \(ComputeThreads.current) threads.")
            try (lines.joined(separator: "\n") + "\n").write(toFile: markdown, atomically: true, encoding: .utf8)
        }
    }
}

/// One model directory scored on the test file, with its cost.
struct ComparedModel {
    let name: String
    let kind: String
    let task: Task
    let metrics: ClassificationMetrics
    let trainingSeconds: Double?
    let millisecondsPerText: Double
    let parameters: Int
    let bytes: Int

    /// Multi-label models: subset accuracy, and micro-F1 beside the macro ROC-AUC over labels.
    static func header(task: Task) -> [String] {
        ["MODEL", "KIND", task == .multiLabel ? "SUBSET ACC" : "ACCURACY", "MACRO F1"] + (task == .multiLabel ? ["MICRO F1"] : [])
            + ["ROC AUC", "TRAIN S", "MS/TEXT", "PARAMETERS", "SIZE MB"]
    }

    var cells: [String] {
        let figure: (Double?) -> String = { $0.map { String(format: "%.4f", $0) } ?? "–" }
        return [name, kind, figure(metrics.accuracy), figure(metrics.macroF1)] + (task == .multiLabel ? [figure(metrics.multiLabel?.microF1)] : [])
            + [figure(metrics.rocAUC), trainingSeconds.map { String(format: "%.1f", $0) } ?? "–", String(format: "%.3f", millisecondsPerText),
               "\(parameters)", String(format: "%.1f", Double(bytes) / 1e6)]
    }

    var json: [String: Any] {
        var object: [String: Any] = ["directory": name, "kind": kind, "task": task.rawValue, "examples": metrics.examples,
                                     "accuracy": metrics.accuracy, "macro_f1": metrics.macroF1, "ms_per_text": millisecondsPerText,
                                     "parameters": parameters, "bytes": bytes]
        object["roc_auc"] = metrics.rocAUC
        object["micro_f1"] = metrics.multiLabel?.microF1
        object["training_seconds"] = trainingSeconds
        return object
    }

    static func score(_ url: URL, data: URL, columns: DataOptions) throws -> ComparedModel {
        let bytes = directoryBytes(url)
        if LinearBaseline.isBaselineDirectory(url) {
            let baseline = try LinearBaseline(directory: url)
            let labelled = try load(data, labels: baseline.labels, task: baseline.task, columns: columns)
            let started = monotonicSeconds()
            let metrics = baseline.evaluate(labelled)
            let seconds = monotonicSeconds() - started
            return ComparedModel(name: url.path, kind: LinearBaseline.kind, task: baseline.task, metrics: metrics,
                                 trainingSeconds: baseline.report?.seconds.total, millisecondsPerText: seconds * 1000 / Double(max(labelled.count, 1)),
                                 parameters: baseline.parameterCount, bytes: bytes)
        }
        let model = try ModelLoader.load(directory: url)
        guard model.canClassify else { throw CommandFailure(description: "\(url.path) has no classification head") }
        let task = model.config.task
        let labelled = try load(data, labels: model.labels, task: task, columns: columns)
        let tokenizer = try Tokenizer(directory: url)
        // Tokenizing is part of a text's cost, so it is inside the timing.
        let started = monotonicSeconds()
        let tokenized = try model.config.longDocuments.map { try TokenizedDataset(labelled, tokenizer: tokenizer, windows: $0, threads: ComputeThreads.current) }
            ?? TokenizedDataset(labelled, tokenizer: tokenizer, maxLength: model.config.maxSequenceLength, threads: ComputeThreads.current)
        var (metrics, logits) = try Evaluation.run(tokenized, model: model)
        let seconds = monotonicSeconds() - started
        if task == .multiLabel, !model.config.decisionThresholds.isEmpty {
            // Scored as served: at the model's own decision thresholds.
            metrics = ClassificationMetrics(outputs: logits, data: tokenized, labelNames: model.labels,
                                            thresholds: model.labels.map { Double(model.config.decisionThresholds[$0] ?? 0.5) })
        }
        // A LoRA run's merged/ model has its report one level up, in the run's directory.
        let reportURL = [url, url.deletingLastPathComponent()].map { $0.appendingPathComponent(TrainingReport.jsonName) }
            .first { FileManager.default.fileExists(atPath: $0.path) && (url.lastPathComponent == FineTuneRun.mergedName || $0.deletingLastPathComponent() == url) }
        let report = try reportURL.flatMap { try? TrainingReport.decode(Data(contentsOf: $0)) }
        // A few-shot directory has its own report.
        let fewShot = (try? Data(contentsOf: url.appendingPathComponent(FewShotReport.fileName)))
            .flatMap { try? JSONDecoder().decode(FewShotReport.self, from: $0) }
        let method = fewShot.map { "\($0.method) \($0.examplesPerClass.reduce(0, +)) texts" } ?? report.flatMap { $0.configuration["method"]?.description }
        let kind = method.map { "\(model.family.modelType) \($0)" } ?? model.family.modelType
        return ComparedModel(name: url.path, kind: kind, task: task, metrics: metrics, trainingSeconds: fewShot?.totalSeconds ?? report?.timings.total,
                             millisecondsPerText: seconds * 1000 / Double(max(labelled.count, 1)), parameters: model.parameterCount, bytes: bytes)
    }

    private static func load(_ url: URL, labels: [String], task: Task, columns: DataOptions) throws -> LabelledDataset {
        var options = columns.datasetOptions
        options.task = task
        return try Dataset.load(url, options: options)
            .labelled(with: try LabelSet(names: labels, minimum: 1), skipBadRows: columns.skipBadRows, task: task, separator: columns.labelSeparator)
    }

    /// Bytes of the files a server loads (resume points and reports excluded).
    private static func directoryBytes(_ url: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix("optimizer") || $0.hasSuffix(".json") && $0.hasPrefix("vocab") || $0 == "vocab.txt" || $0 == "tokenizer.json" }
            .reduce(0) { total, name in
                total + ((try? FileManager.default.attributesOfItem(atPath: url.appendingPathComponent(name).path)[.size] as? Int) ?? 0)
            }
    }
}
