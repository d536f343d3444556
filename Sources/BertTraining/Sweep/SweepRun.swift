import BertCore
import Foundation

/// Runs a sweep in this process, one FineTuneRun per point, each in OUT/points/NAME:
///
///     OUT/sweep.json                       the definition (a rerun must match it)
///     OUT/points/NAME/                     a model directory + training report per run
///     OUT/points/NAME/point.json           the run's result, once it finished (or paused)
///     OUT/points/NAME/last-checkpoint/     while it is unfinished: where it resumes
///     OUT/sweep_report.json, .svg          every point ranked, the validation curves
///     OUT/best/                            a copy of the best run's model directory
///
/// Rerunning after Ctrl-C, SIGTERM or `kill -9` continues: runs with a point.json are not
/// trained again, the interrupted one resumes from its resume point (bit for bit, as
/// FineTuneRun resumes). With `maxSeconds`, no run starts after that long; those left are
/// skipped, named in the report, and trained by the next rerun.
public final class SweepRun {
    public enum Event {
        /// A run starts, or resumes, to train up to `epochs`; `number` counts runs this session.
        case started(SweepPoint, number: Int, resuming: Bool, epochs: Int)
        case progress(SweepPoint, FineTuneRun.Progress)
        /// Its point.json was written.
        case finished(SweepPoint, SweepPointRecord)
        /// Not started: the time budget was spent.
        case skipped(SweepPoint)
        /// Halving: a round trains these configurations up to `epochs`.
        case round(epochs: Int, configurations: Int)
    }

    /// `stopRequested` stopped the sweep: the run it stopped (if one was training) has its resume point.
    public struct Interrupted: Error, CustomStringConvertible {
        public let point: String?
        public var description: String {
            point.map { "stopped while training \($0), with a resume point" } ?? "stopped between runs"
        }
    }

    public static let definitionName = "sweep.json", pointsName = "points", bestName = "best"

    public let definition: SweepDefinition
    public let output: URL
    /// No run starts once this many seconds have passed in this session (nil: no limit).
    public let maxSeconds: Double?
    let events: (Event) -> Void
    private let stopRequested: () -> Bool
    private let betweenSteps: () -> Void
    private let clock: () -> Double

    // The session's state.
    var records: [String: SweepPointRecord] = [:]
    var skipped: [String] = []
    /// Halving: the configurations (by index) a round left behind, and that round's epochs.
    var halvedOut: [Int: Int] = [:]
    private var started = 0.0, runsStarted = 0
    private var data: TrainingData!
    private var options: [String: FineTuneOptions] = [:]

    /// - Parameters:
    ///   - events: runs, progress and results, for a progress display.
    ///   - stopRequested: asked after every optimizer step and before every run: true stops the
    ///     sweep (`Interrupted`) with the current run's resume point written.
    ///   - clock: seconds, for the budget (tests move time).
    ///   - betweenSteps: passed to every run (the daemon serves waiting requests there).
    public init(definition: SweepDefinition, output: URL, maxSeconds: Double? = nil, events: @escaping (Event) -> Void = { _ in },
                stopRequested: @escaping () -> Bool = { false }, betweenSteps: @escaping () -> Void = {},
                clock: @escaping () -> Double = monotonicSeconds) {
        self.definition = definition
        self.betweenSteps = betweenSteps
        self.output = output
        self.maxSeconds = maxSeconds
        self.events = events
        self.stopRequested = stopRequested
        self.clock = clock
    }

    /// Trains what is left of the sweep, then writes the report and OUT/best.
    @discardableResult
    public func run() throws -> SweepReport {
        (started, runsStarted, skipped, halvedOut) = (clock(), 0, [], [:])
        let isNew = try checkOutput()
        data = try loadData()
        let points = definition.points()
        // Every point's settings are checked before the first trains: a bad value fails now, not hours in.
        for point in points {
            do {
                options[point.name] = try point.settings(base: definition.base)
                    .options(classCounts: data.statistics.trainClassCounts, examples: data.train.count)
            } catch let invalid as TrainingSettings.Invalid {
                throw TrainingSettings.Invalid(description: "\(point.configuration.label): \(invalid.description)")
            }
            records[point.name] = SweepPointRecord.read(from: directory(of: point))
        }
        // Only a sweep that can start is kept: a typo fixed, the same command must not be refused.
        if isNew { try writeDefinition() }
        if definition.halving { try runHalving(points) } else { try runInOrder(points) }

        let report = SweepReport(definition: definition, points: points, records: records, skipped: skipped, halvedOut: halvedOut,
                                 seconds: clock() - started)
        try AtomicDirectory.writeFile(try report.json(), to: output.appendingPathComponent(SweepReport.jsonName))
        try AtomicDirectory.writeFile(Data(SweepReportSVG.render(report).utf8), to: output.appendingPathComponent(SweepReport.svgName))
        if let best = report.best { try copyBest(run: best.run) }
        return report
    }

    /// Plain sweep: every run to its epochs, in order.
    private func runInOrder(_ points: [SweepPoint]) throws {
        for point in points where records[point.name]?.state != .finished {
            guard try mayStart(point) else { continue }
            records[point.name] = try train(point, upTo: nil)
        }
    }

    /// Before a run that needs training: stops when asked to; false (and the run is skipped)
    /// when the budget is spent.
    func mayStart(_ point: SweepPoint) throws -> Bool {
        if stopRequested() { throw Interrupted(point: nil) }
        if let maxSeconds, clock() - started >= maxSeconds {
            skipped.append(point.name)
            events(.skipped(point))
            return false
        }
        return true
    }

    func directory(of point: SweepPoint) -> URL {
        output.appendingPathComponent(Self.pointsName).appendingPathComponent(point.name)
    }

    func options(of point: SweepPoint) -> FineTuneOptions { options[point.name]! }

    /// Trains one run up to `target` epochs (nil: all of them) from its resume point, if any,
    /// and records the result. Halving pauses a run at a round's end by asking FineTuneRun to
    /// stop after that epoch: its options still say every epoch, so the learning-rate schedule
    /// is the full run's and a survivor continues exactly as an uninterrupted run would.
    func train(_ point: SweepPoint, upTo target: Int?) throws -> SweepPointRecord {
        let dir = directory(of: point)
        let last = dir.appendingPathComponent(FineTuneRun.lastCheckpointName)
        let options = options(of: point)
        let previousSeconds = records[point.name]?.seconds ?? 0
        let state = try? JSONDecoder().decode(TrainerState.self,
                                              from: Data(contentsOf: last.appendingPathComponent(ResumeState.trainerStateName)))
        // Killed after the resume point that ended the stretch but before point.json: nothing to train.
        if let state, state.stepInEpoch == 0, let report = try? lastReport(in: last) {
            let exhausted = state.earlyStopping.map { s in s.patience.map { s.evaluationsWithoutImprovement >= $0 } ?? false } ?? false
            if state.epoch >= options.epochs || exhausted {
                try writeReport(report, into: dir)
                let finished = try record(point, .finished, report, seconds: previousSeconds)
                removeResumePoint(last)
                return finished
            }
            if let target, state.epoch >= target { return try record(point, .paused, report, seconds: previousSeconds) }
        }

        runsStarted += 1
        events(.started(point, number: runsStarted, resuming: state != nil, epochs: min(target ?? options.epochs, options.epochs)))
        let pause = target.flatMap { $0 < options.epochs ? EpochPause(epochs: $0) : nil }
        let begin = clock()
        let run = FineTuneRun(modelDirectory: URL(fileURLWithPath: definition.model), data: data, options: options, output: dir,
                              progress: { [events] p in pause?.observe(p); events(.progress(point, p)) },
                              stopRequested: { [stopRequested] in stopRequested() || pause?.reached == true },
                              betweenSteps: betweenSteps)
        do {
            let report = try run.run(resume: true)
            // point.json first: a crash between the two loses nothing.
            let finished = try record(point, .finished, report, seconds: previousSeconds + clock() - begin)
            removeResumePoint(last)
            return finished
        } catch is FineTuneRun.Interrupted {
            guard pause?.reached == true, let report = try? lastReport(in: last) else { throw Interrupted(point: point.name) }
            return try record(point, .paused, report, seconds: previousSeconds + clock() - begin)
        }
    }

    private func record(_ point: SweepPoint, _ state: SweepPointRecord.State, _ report: TrainingReport, seconds: Double) throws -> SweepPointRecord {
        let record = SweepPointRecord(point: point, state: state, report: report, seconds: seconds)
        try record.write(to: directory(of: point))
        events(.finished(point, record))
        return record
    }

    /// A run that needs its resume point no more (the model twice over, with AdamW's moments)
    /// loses it, and any copy a crash left half-written.
    func removeResumePoint(_ last: URL) {
        try? FileManager.default.removeItem(at: last)
        AtomicDirectory.removeStaleTemporaries(of: last)
    }

    /// The report a resume point holds: every epoch so far (the run's own directory has the
    /// report of its best epoch only until the run ends).
    func lastReport(in last: URL) throws -> TrainingReport {
        try TrainingReport.decode(Data(contentsOf: last.appendingPathComponent(TrainingReport.jsonName)))
    }

    /// The run's training_report.json and .svg, as FineTuneRun writes them at its end.
    func writeReport(_ report: TrainingReport, into dir: URL) throws {
        try AtomicDirectory.writeFile(try report.json(), to: dir.appendingPathComponent(TrainingReport.jsonName))
        try AtomicDirectory.writeFile(Data(ReportSVG.render(report).utf8), to: dir.appendingPathComponent(TrainingReport.svgName))
    }

    /// In an existing sweep, checks that it is this one (false); true for a new or empty directory.
    private func checkOutput() throws -> Bool {
        let file = output.appendingPathComponent(Self.definitionName)
        let fm = FileManager.default
        if let stored = fm.contents(atPath: file.path) {
            let previous: SweepDefinition
            do { previous = try JSONDecoder().decode(SweepDefinition.self, from: stored) } catch {
                throw TrainingDataError(.invalidCheckpoint, "\(file.path) is not a sweep definition: \(error)")
            }
            let changed = definition.differences(from: previous)
            guard changed.isEmpty else {
                throw TrainingDataError(.invalidOption, "\(output.path) holds a sweep defined differently (\(changed.joined(separator: ", "))): "
                                        + "rerun it with the options it was started with, or choose another output directory")
            }
            return false
        }
        if let existing = try? fm.contentsOfDirectory(atPath: output.path), !existing.isEmpty {
            throw TrainingDataError(.invalidOption, "\(output.path) is not empty and holds no \(Self.definitionName): choose a new directory for the sweep")
        }
        return true
    }

    private func writeDefinition() throws {
        do { try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true) } catch {
            throw TrainingDataError(.ioError, "cannot create \(output.path): \(error.localizedDescription)")
        }
        try AtomicDirectory.writeFile(try definition.json(), to: output.appendingPathComponent(Self.definitionName))
    }

    private func loadData() throws -> TrainingData {
        let base = definition.base
        return try TrainingData.load(train: URL(fileURLWithPath: definition.train),
                                     validation: definition.validation.map { URL(fileURLWithPath: $0) },
                                     options: try base.datasetOptions(), labels: try base.labels(),
                                     validationFraction: try base.validationFraction(), seed: definition.seed)
    }

    /// OUT/best: the best run's model directory, without point.json and any resume point (or a crash's half of one).
    private func copyBest(run name: String) throws {
        let source = output.appendingPathComponent(Self.pointsName).appendingPathComponent(name)
        let fm = FileManager.default
        try AtomicDirectory.write(output.appendingPathComponent(Self.bestName)) { temp in
            for item in try fm.contentsOfDirectory(atPath: source.path)
            where !item.hasPrefix(FineTuneRun.lastCheckpointName) && item != SweepPointRecord.fileName && !item.hasPrefix(".") {
                do { try fm.copyItem(at: source.appendingPathComponent(item), to: temp.appendingPathComponent(item)) } catch {
                    throw TrainingDataError(.ioError, "cannot copy \(item) of \(source.path): \(error.localizedDescription)")
                }
            }
        }
    }
}

/// Halving's pause: reached once a run has taken every optimizer step of its first `epochs`
/// epochs (FineTuneRun asks `stopRequested` again after that epoch's evaluation and resume
/// point, and stops there).
final class EpochPause {
    let epochs: Int
    private(set) var reached = false

    init(epochs: Int) { self.epochs = epochs }

    func observe(_ p: FineTuneRun.Progress) {
        let stepsPerEpoch = p.totalSteps / max(p.epochs, 1)
        if p.step >= epochs * stepsPerEpoch { reached = true }
    }
}
