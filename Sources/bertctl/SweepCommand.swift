import ArgumentParser
import BertCore
import BertTraining
import Foundation

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Search hyper-parameters: fine-tune a model per point of a grid or a random sample, rank them, keep the best.",
        discussion: """
        Runs in this process, like train --local. Each point is a train run whose other options \
        are those given here, in OUT/points/NAME (its model directory and training report); \
        OUT/sweep_report.json and OUT/sweep_report.svg rank the points best first by --metric \
        (mean ± sd over --seeds) and draw every validation curve; OUT/best is a copy of the best \
        run's model directory. The table goes to stdout, progress to stderr. Ctrl-C (or SIGTERM) \
        stops at the next step with a resume point and exits with 130 (143); the same command \
        continues the sweep (after kill -9 too): finished runs are not trained again, and a \
        changed definition is refused. Axes: \(SweepAxis.all.map(\.name).joined(separator: ", ")).
        Examples:
          bertctl sweep --model models/all-MiniLM-L6-v2 --train train.tsv --validation dev.tsv --out runs/grid --grid lr=1e-5,3e-5,5e-5 --grid batch-size=16,32 --grid epochs=2,3
          bertctl sweep --model models/all-MiniLM-L6-v2 --train train.tsv --out runs/random --random 12 --range lr=1e-5:1e-4:log --range warmup-ratio=0:0.2 --seeds 2 --metric macro_f1
          bertctl sweep --model models/all-MiniLM-L6-v2 --train train.tsv --out runs/halving --grid lr=2e-5,5e-5,1e-4 --grid method=full,lora --epochs 4 --halving --max-minutes 60
        """)

    @Option(help: "The base model: a directory, or with --name the name of a model bertd serves (default: its default model).") var model: String?
    @Option(help: "Training data: .tsv, .csv or .jsonl with a header.") var train: String
    @Option(help: "Validation data (default: a stratified split of --train).") var validation: String?
    @Option(help: "Fraction of --train held out when there is no --validation.") var validationFraction = 0.1
    @Option(help: "Labels in id order, comma-separated (default: those in the data, sorted).") var labels: String?
    @Option(help: "The sweep's directory; the same command continues the sweep in it.") var out: String?
    @Option(help: "Run the sweep as a bertd job instead, its best run served under this name (bertd keeps its directory and resumes it after a restart).") var name: String?
    @Flag(help: "With --name: submit the job and return.") var detach = false
    @Option(help: "With --name: bertd's events endpoint, to follow the job.") var events: String?
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .customLong("grid"), help: ArgumentHelp("An axis and its values (repeat it: the grid is the product of the axes).", valueName: "name=v1,v2,…"))
    var grid: [String] = []
    @Option(help: "Random search: this many points drawn from the --range axes (and --grid lists), seeded by --seed.") var random: Int?
    @Option(name: .customLong("range"), help: ArgumentHelp("With --random: an axis drawn uniformly, or log-uniformly with :log (integer settings draw integers).", valueName: "name=low:high[:log]"))
    var ranges: [String] = []
    @Option(help: "Train every point with this many seeds (--seed, --seed + 1, …) and rank by their mean.") var seeds = 1
    @Flag(help: "Successive halving: every point trains 1 epoch, the better half continues to 2, then 4, … up to --epochs.") var halving = false
    @Option(help: "Start no run after this many minutes (those left are skipped; rerunning the command trains them).") var maxMinutes: Double?
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Flag(help: "Print the report as JSON on stdout instead of the table.") var json = false
    @OptionGroup var data: DataOptions
    @OptionGroup var hyper: TrainingOptionsGroup

    func validate() throws {
        if name == nil && (model == nil || out == nil) { throw ValidationError("a sweep here needs --model DIR and --out DIR (or --name NAME to run it in bertd)") }
        if name != nil && out != nil { throw ValidationError("bertd keeps a job's directory; --out is for a sweep run here") }
        if let maxMinutes, !(maxMinutes > 0) { throw ValidationError("--max-minutes must be above 0") }
        if !(0.01...0.5).contains(validationFraction) { throw ValidationError("--validation-fraction must be between 0.01 and 0.5") }
        do { _ = try definition() } catch let e as TrainingDataError { throw ValidationError(e.message) }
    }

    /// The sweep as a bertd job: the axes as `sweep_*` options beside every point's base settings.
    private func submit(name: String) throws {
        var settings = hyper.settings.values.merging(data.settings) { a, _ in a }
        settings["validation_fraction"] = .number(validationFraction)
        if let labels { settings["labels"] = .string(labels) }
        if !grid.isEmpty { settings["sweep_grid"] = .string(grid.joined(separator: ";")) }
        if !ranges.isEmpty { settings["sweep_ranges"] = .string(ranges.joined(separator: ";")) }
        if let random { settings["sweep_random"] = .integer(random) }
        if seeds != 1 { settings["sweep_seeds"] = .integer(seeds) }
        if halving { settings["sweep_halving"] = .bool(true) }
        if let maxMinutes { settings["sweep_max_minutes"] = .number(maxMinutes) }
        try JobSubmission(name: name, train: train, validation: validation, baseModel: model, settings: settings,
                          daemon: daemon, events: events, detach: detach, json: json).run()
    }

    /// The sweep as the library keeps it: the axes, and every other option as the base settings.
    private func definition() throws -> SweepDefinition {
        var base = hyper.settings.values.merging(data.settings) { a, _ in a }
        base["validation_fraction"] = .number(validationFraction)
        if let labels { base["labels"] = .string(labels) }
        return try SweepDefinition(model: model ?? ".", train: train, validation: validation, base: TrainingSettings(base),
                                   grid: try grid.map(SweepDefinition.GridAxis.init(parsing:)),
                                   ranges: try ranges.map(SweepDefinition.RangeAxis.init(parsing:)),
                                   randomPoints: random, seeds: seeds, halving: halving)
    }

    func run() throws {
        if let name { return try submit(name: name) }
        guard let out else { return }
        ComputeThreads.set(threads ?? ComputeThreads.cores)
        let signals = StopSignals()
        do {
            let definition = try definition()
            let progress = SweepProgress(total: definition.points().count)
            let report = try SweepRun(definition: definition, output: URL(fileURLWithPath: out), maxSeconds: maxMinutes.map { $0 * 60 },
                                      events: progress.show, stopRequested: { signals.stopRequested }).run()
            if json { return print(String(decoding: try report.json(), as: UTF8.self), terminator: "") }
            print(report.table(), terminator: "")
            if let best = report.best { print("best: \(best.run) → \(out)/\(SweepRun.bestName)") }
            print("report: \(out)/\(SweepReport.svgName)")
        } catch let stopped as SweepRun.Interrupted {
            FileHandle.standardError.write(Data("\n\(stopped.description)\nrun the same command to continue\n".utf8))
            throw ExitCode(128 + signals.receivedSignal)
        } catch let e as TrainingDataError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        } catch let e as TrainingSettings.Invalid {
            throw CommandFailure(description: e.description)
        } catch let e as BertError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        }
    }
}
