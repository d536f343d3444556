import BertBaselines
import BertCore
import BertFewShot
import BertTraining
import Foundation

/// What the compute thread reports about a job, for the I/O thread to record and publish.
enum JobEvent: Sendable {
    case started(String)
    case progress(String, TrainingJob.Progress)
    case evaluated(String, epoch: Int, epochs: Int, TrainingJob.Metrics)
    /// A sweep's run ended (finished, or paused by halving): its name and best validation value.
    case point(String, SweepPointSummary)
    /// Done; `served` is the directory to serve (the kept checkpoint, or its LoRA merge).
    case finished(String, TrainingJob.Metrics?, served: String, seconds: Double)
    case failed(String, String)
    /// Stopped at a step with a resume point: cancelled, or the daemon is stopping.
    case stopped(String, cancelled: Bool)
}

/// One run of a sweep job as its `job.point` event tells it.
struct SweepPointSummary: Sendable {
    let run: String
    let state: String
    let metric: String
    let best: Double?
    let epochs: Int
    let runs: Int
}

/// A job's cancel flag, set by the I/O thread and read by the compute thread between steps.
final class JobControl: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    func cancel() { lock.lock(); cancelled = true; lock.unlock() }
    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }
}

/// Runs one job on the compute thread: load and tokenize the data, fine-tune with FineTuneRun
/// (waiting requests are served between its steps), report through `post`.
enum JobRunner {
    static func run(_ job: TrainingJob, output: URL, control: JobControl, context: Scheduler.TrainingContext,
                    post: @escaping @Sendable (JobEvent) -> Void) {
        if control.isCancelled { return post(.stopped(job.id, cancelled: true)) }
        post(.started(job.id))
        do {
            let s = job.settings
            if SweepDefinition.isSweep(s) { return try runSweep(job, output: output, control: control, context: context, post: post) }
            let data = try TrainingData.load(train: URL(fileURLWithPath: job.train),
                                             validation: job.validation.map { URL(fileURLWithPath: $0) },
                                             options: try s.datasetOptions(), labels: try s.labels(),
                                             // Few-shot holds out none of its few texts.
                                             validationFraction: try s.method() == .fewShot ? 0 : s.validationFraction(),
                                             seed: try s.seed())
            if try s.method() == .baselineLinear {
                return try runLinearBaseline(job, data: data, output: output, control: control, context: context, post: post)
            }
            if try s.method() == .fewShot {
                return try runFewShot(job, data: data, output: output, control: control, context: context, post: post)
            }
            var options = try s.options(classCounts: data.statistics.trainClassCounts, examples: data.train.count)
            // A LoRA result is served merged: a plain model directory, no adapter to apply.
            if case .lora = options.method { options.mergeLoRA = true }
            let id = job.id
            let run = FineTuneRun(
                modelDirectory: URL(fileURLWithPath: job.basePath), data: data, options: options, output: output,
                progress: { Self.post($0, job: id, to: post) },
                stopRequested: { control.isCancelled || context.isStopping },
                betweenSteps: { context.serveWaiting() })
            let report = try run.run(resume: job.resume)
            discardResumePoint(output)
            let served = options.mergeLoRA ? output.appendingPathComponent(FineTuneRun.mergedName) : output
            post(.finished(id, report.finalMetrics.map(TrainingJob.Metrics.init), served: served.path, seconds: report.timings.total))
        } catch is FineTuneRun.Interrupted {
            if control.isCancelled { discardResumePoint(output) }  // an interrupted job keeps it to resume
            post(.stopped(job.id, cancelled: control.isCancelled))
        } catch {
            post(.failed(job.id, describe(error)))
        }
    }

    /// A run's progress as the job's events: a step, or an evaluation.
    private static func post(_ p: FineTuneRun.Progress, job id: String, to post: @Sendable (JobEvent) -> Void) {
        if let m = p.evaluation {
            post(.evaluated(id, epoch: p.epoch, epochs: p.epochs, TrainingJob.Metrics(m)))
        } else {
            post(.progress(id, TrainingJob.Progress(epoch: p.epoch, epochs: p.epochs, step: p.step, totalSteps: p.totalSteps,
                                                    loss: p.loss, learningRate: p.learningRate,
                                                    examplesPerSecond: p.examplesPerSecond, secondsLeft: p.secondsLeft)))
        }
    }

    /// A sweep: every point a FineTuneRun in OUT/points (waiting requests served between steps),
    /// progress reported as a plain job's, `best/` served under the job's name. Resuming after a
    /// restart is the sweep's own: finished points are never trained again, the interrupted one
    /// continues from its resume point.
    private static func runSweep(_ job: TrainingJob, output: URL, control: JobControl, context: Scheduler.TrainingContext,
                                 post: @escaping @Sendable (JobEvent) -> Void) throws {
        let (definition, maxSeconds) = try SweepDefinition.fromJob(model: job.basePath, train: job.train, validation: job.validation,
                                                                   settings: job.settings)
        let id = job.id
        let total = definition.points().count
        let run = SweepRun(definition: definition, output: output, maxSeconds: maxSeconds, events: { event in
            switch event {
            case .progress(_, let p): Self.post(p, job: id, to: post)
            case .finished(_, let record):
                post(.point(id, SweepPointSummary(run: record.name, state: record.state.rawValue, metric: record.metric.rawValue,
                                                  best: record.best(), epochs: record.epochsTrained, runs: total)))
            default: break
            }
        }, stopRequested: { control.isCancelled || context.isStopping }, betweenSteps: { context.serveWaiting() })
        do {
            let report = try run.run()
            let best = output.appendingPathComponent(SweepRun.bestName)
            guard report.best != nil, FileManager.default.fileExists(atPath: best.path) else {
                throw TrainingDataError(.notEnoughData, "the sweep finished without a best run (\(report.skipped.count) runs skipped by the time budget)")
            }
            let kept = try? TrainingReport.decode(Data(contentsOf: best.appendingPathComponent(TrainingReport.jsonName)))
            post(.finished(id, kept?.finalMetrics.map(TrainingJob.Metrics.init), served: best.path, seconds: report.seconds))
        } catch is SweepRun.Interrupted {
            post(.stopped(id, cancelled: control.isCancelled))
        }
    }

    /// A TF-IDF + logistic-regression baseline: seconds of work, served like any model. Waiting
    /// requests are served between L-BFGS iterations, and a cancel or a stop ends it there; it
    /// has no resume point (a job interrupted by a restart starts it again).
    private static func runLinearBaseline(_ job: TrainingJob, data: TrainingData, output: URL, control: JobControl,
                                          context: Scheduler.TrainingContext, post: @escaping @Sendable (JobEvent) -> Void) throws {
        struct Stopped: Error {}
        let options = LinearBaselineOptions(settings: try job.settings.linearBaseline(), threads: ComputeThreads.current)
        let baseline: LinearBaseline
        do {
            baseline = try LinearBaseline.train(data, options: options) { _ in
                context.serveWaiting()
                if control.isCancelled || context.isStopping { throw Stopped() }
            }
        } catch is Stopped {
            return post(.stopped(job.id, cancelled: control.isCancelled))
        }
        try baseline.save(to: output)
        let metrics = (baseline.report?.validation ?? baseline.report?.train).map(TrainingJob.Metrics.init)
        if let metrics { post(.evaluated(job.id, epoch: 1, epochs: 1, metrics)) }
        post(.finished(job.id, metrics, served: output.path, seconds: baseline.report?.seconds.total ?? 0))
    }

    /// Few-shot (SetFit's recipe): minutes at most, so no resume point — a job interrupted by a
    /// restart trains again from the start; cancelled between steps; waiting requests are served
    /// between steps.
    private static func runFewShot(_ job: TrainingJob, data: TrainingData, output: URL, control: JobControl,
                                   context: Scheduler.TrainingContext, post: @escaping @Sendable (JobEvent) -> Void) throws {
        let options = try job.settings.fewShot()
        let (id, started) = (job.id, monotonicSeconds())
        do {
            let base = URL(fileURLWithPath: job.basePath)
            let result = try FewShotRun.train(baseModel: base, data: data, options: options, progress: { p in
                context.serveWaiting()
                guard p.phase == .training, let loss = p.loss else { return }
                let elapsed = monotonicSeconds() - started
                post(.progress(id, TrainingJob.Progress(
                    epoch: p.epoch, epochs: options.epochs, step: p.step, totalSteps: p.totalSteps, loss: Double(loss),
                    learningRate: Double(p.learningRate ?? 0), examplesPerSecond: Double(2 * options.batchSize * p.step) / max(elapsed, 1e-9),
                    secondsLeft: elapsed / Double(p.step) * Double(p.totalSteps - p.step))))
            }, shouldStop: { control.isCancelled || context.isStopping })
            try FewShotCheckpoint.write(result, baseModel: base, to: output)
            let metrics = TrainingJob.Metrics(result.report.validation ?? result.report.train)
            post(.evaluated(id, epoch: options.epochs, epochs: options.epochs, metrics))
            post(.finished(id, metrics, served: output.path, seconds: result.report.totalSeconds))
        } catch is FewShotRun.Stopped {
            post(.stopped(id, cancelled: control.isCancelled))
        }
    }

    /// A finished or cancelled job will not resume: its resume point (the model again, and AdamW's
    /// moments: about three times the model's size) would only take disk space.
    private static func discardResumePoint(_ output: URL) {
        try? FileManager.default.removeItem(at: output.appendingPathComponent(FineTuneRun.lastCheckpointName))
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? TrainingDataError { return e.message }
        if let e = error as? BertError { return e.message }
        if let e = error as? TrainingSettings.Invalid { return e.description }
        return "\(error)"
    }
}
