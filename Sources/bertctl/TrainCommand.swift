import ArgumentParser
import BertCore
import BertProtocol
import BertTraining
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune a classifier on a labelled file; write a Hugging Face model directory and a report.",
        discussion: """
        The output directory holds config.json (with id2label), model.safetensors with Hugging Face \
        names and the tokenizer files — transformers loads it unchanged — plus training_report.json \
        and training_report.svg; LoRA runs add adapter_config.json + adapter_model.safetensors \
        (PEFT). The best checkpoint by --metric is the one kept; last-checkpoint/ is where --resume \
        continues after a crash, or after Ctrl-C (or SIGTERM), which stops the run at the next \
        step with a resume point and exits with 130 (143). A progress line goes to stderr. \
        Examples:
          bertctl train --local --model models/all-MiniLM-L6-v2 --train data/train.tsv --out runs/sentiment
          bertctl train --local --model models/all-MiniLM-L6-v2 --train reviews.csv --text-column review --label-column stars --method lora --epochs 5 --metric macro_f1 --patience 2 --out runs/stars
          bertctl train --local --model models/all-MiniLM-L6-v2 --train data/train.tsv --kfold 5 --out runs/cv
          bertctl train --local --model models/all-MiniLM-L6-v2 --train data/16-per-class.tsv --method few-shot --out runs/few-shot
        """)

    @Flag(help: "Train in this process instead of submitting a job to bertd.") var local = false
    @Option(help: "The base model: a directory with --local, else the name of a model bertd serves (default: its default model).")
    var model: String?
    @Option(help: "Training data: .tsv, .csv or .jsonl with a header.") var train: String
    @Option(help: "Validation data (default: a stratified split of --train).") var validation: String?
    @Option(help: "Fraction of --train held out when there is no --validation.") var validationFraction = 0.1
    @Option(help: "Labels in id order, comma-separated (default: those in the data, sorted).") var labels: String?
    @Option(help: "k-fold cross-validation: train k models, report per-fold and mean ± sd metrics.") var kfold: Int?
    @Option(help: "--local: the output directory.") var out: String?
    @Option(help: "bertd: the name to serve the trained model under.") var name: String?
    @Flag(help: "bertd: submit the job and return (default: follow it to its end).") var detach = false
    @Option(help: "bertd's events endpoint, to follow the job (default: $BERTD_EVENTS, else ipc:///run/bertd/events.sock).")
    var events: String?
    @Flag(help: "Continue from --out/last-checkpoint after an interruption.") var resume = false
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Flag(help: "Print the final report as JSON on stdout.") var json = false
    @OptionGroup var data: DataOptions
    @OptionGroup var hyper: TrainingOptionsGroup
    @OptionGroup var daemon: DaemonOptions

    func validate() throws {
        if local {
            if out == nil { throw ValidationError("--local needs --out DIR") }
            if model == nil && hyper.method != .baselineLinear { throw ValidationError("--local needs --model DIR (the base model) and --out DIR") }
        } else {
            if name == nil { throw ValidationError("a job in bertd needs --name, the name to serve the result under (or train here with --local)") }
            if kfold != nil { throw ValidationError("--kfold runs with --local only") }
            if resume { throw ValidationError("bertd resumes interrupted jobs itself; --resume is for --local") }
            if out != nil { throw ValidationError("bertd keeps a job's output in its state directory; --out is for --local") }
        }
        if let kfold, kfold < 2 { throw ValidationError("--kfold must be at least 2") }
        if kfold != nil && validation != nil { throw ValidationError("--kfold makes its own validation folds; drop --validation") }
        if !(0.01...0.5).contains(validationFraction) { throw ValidationError("--validation-fraction must be between 0.01 and 0.5") }
    }

    func run() throws {
        guard local else { return try submitJob() }
        if hyper.method == .baselineLinear { return try LinearBaselineTraining(command: self).run() }
        if hyper.method == .fewShot { return try FewShotTraining(command: self).run() }
        guard let model, let out else { return }
        ComputeThreads.set(threads ?? ComputeThreads.cores)
        let signals = StopSignals()
        do {
            let loaded = try loadData()
            let options = try hyper.options(classCounts: loaded.statistics.trainClassCounts, examples: loaded.train.count,
                                            data: data.settings)
            let outURL = URL(fileURLWithPath: out)
            if let k = kfold {
                try runFolds(loaded, k: k, options: options, out: outURL, signals: signals)
                return
            }
            let bar = ProgressBar()
            let report = try FineTuneRun(modelDirectory: URL(fileURLWithPath: model), data: loaded, options: options, output: outURL,
                                         progress: bar.show, stopRequested: { signals.stopRequested }).run(resume: resume)
            if json { print(String(decoding: try report.json(), as: UTF8.self)) } else { summarize(report, out: out) }
        } catch let stopped as FineTuneRun.Interrupted {
            FileHandle.standardError.write(Data("\n\(stopped.description)\nrun the same command with --resume to continue\n".utf8))
            throw ExitCode(128 + signals.receivedSignal)
        } catch let e as TrainingDataError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        } catch let e as BertError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        }
    }

    /// --train and --validation (or a split of --train) with --labels, the task stated on stderr
    /// when the data decided it: what every --local method trains on.
    /// - Parameter split: false: without --validation, no validation set at all (few-shot).
    func loadData(split: Bool = true) throws -> TrainingData {
        let loaded = try TrainingData.load(train: URL(fileURLWithPath: train), validation: validation.map { URL(fileURLWithPath: $0) },
                                           options: data.datasetOptions,
                                           labels: labels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
                                           validationFraction: split ? validationFraction : 0, seed: hyper.seed)
        loaded.stateDetectedTask(separator: data.labelSeparator)
        return loaded
    }

    /// Submits the run as a bertd job and, unless --detach, follows it to its end.
    private func submitJob() throws {
        var settings = hyper.settings.values.merging(data.settings) { a, _ in a }
        settings["validation_fraction"] = .number(validationFraction)
        if let labels { settings["labels"] = .string(labels) }
        try JobSubmission(name: name!, train: train, validation: validation, baseModel: model, settings: settings,
                          daemon: daemon, events: events, detach: detach, json: json).run()
    }

    private func runFolds(_ data: TrainingData, k: Int, options: FineTuneOptions, out: URL, signals: StopSignals) throws {
        var finals: [ClassificationMetrics] = []
        for (i, fold) in try data.folds(k, seed: options.seed).enumerated() {
            var bar = ProgressBar()
            bar.label = "fold \(i + 1)/\(k)  "
            let report = try FineTuneRun(modelDirectory: URL(fileURLWithPath: model!), data: fold, options: options,
                                         output: out.appendingPathComponent("fold-\(i + 1)"), progress: bar.show,
                                         stopRequested: { signals.stopRequested }).run(resume: resume)
            if let m = report.finalMetrics { finals.append(m) }
        }
        var summary = TrainingReport(title: "\(k)-fold cross-validation", configuration: [:], labels: data.labelSet.names,
                                     data: data.statistics, selectionMetric: options.selectionMetric)
        summary.folds = finals
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try AtomicFile.write(try summary.json(), to: out.appendingPathComponent("kfold_report.json"))
        if json { return print(String(decoding: try summary.json(), as: UTF8.self)) }
        for metric in [Metric.accuracy, .macroF1, .loss, .rocAUC] {
            if let (mean, sd) = summary.foldSummary(metric) { print(String(format: "%-10@ %.4f ± %.4f", metric.rawValue, mean, sd)) }
        }
        print("folds in \(out.path)/fold-1 … fold-\(k), summary in kfold_report.json")
    }

    private func summarize(_ r: TrainingReport, out: String) {
        if let m = r.finalMetrics { print("best epoch \(r.bestEpoch ?? 0): \(m.summary)") }
        if let m = r.finalMetricsAtTunedThresholds { print("at the tuned thresholds (config.json decision_thresholds): \(m.summary)") }
        print(String(format: "trained in %.1f s (%.1f s tokenizing, %.1f s evaluating)%@", r.timings.total, r.timings.tokenization,
                     r.timings.evaluation, r.stoppedEarly ? ", stopped early" : ""))
        print("model: \(out)  report: \(out)/\(TrainingReport.svgName)")
    }
}
