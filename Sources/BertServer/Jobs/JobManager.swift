import BertProtocol
import BertTraining
import Foundation

/// The training jobs: accepted over the endpoint, persisted before they are acknowledged, run
/// one at a time on the compute thread, recorded from the events it reports. I/O thread only.
final class JobManager {
    private(set) var jobs: [String: TrainingJob] = [:]
    private var order: [String] = []
    private var controls: [String: JobControl] = [:]
    private let store: JobStore
    private let scheduler: Scheduler
    private let events: Mailbox<JobEvent>
    private var nextNumber = 1

    init(stateDirectory: String, scheduler: Scheduler, events: Mailbox<JobEvent>) {
        store = JobStore(stateDirectory: stateDirectory)
        self.scheduler = scheduler
        self.events = events
    }

    var all: [TrainingJob] { order.compactMap { jobs[$0] } }
    var queuedCount: Int { jobs.values.filter { $0.state == .queued }.count }
    var running: TrainingJob? { jobs.values.first { $0.state == .running } }

    /// Reads the jobs on disk. A job that was running or interrupted when the daemon stopped is
    /// queued again to resume from its last resume point; queued jobs are queued again. Returns
    /// what to log.
    func restore() -> [String] {
        let (loaded, problems) = store.loadAll()
        var notes = problems.map { "ignoring an unreadable job: \($0)" }
        for var job in loaded {
            nextNumber = max(nextNumber, (Int(job.id) ?? 0) + 1)
            if job.state == .running || job.state == .interrupted {
                job.state = .queued
                job.resume = true
                notes.append("job \(job.id) (\(job.name)) was interrupted: it resumes from its last resume point")
                try? store.save(job)
            }
            jobs[job.id] = job
            order.append(job.id)
            if job.state == .queued { enqueue(job) }
        }
        return notes
    }

    /// Records and queues a new job; throws the error to reply with.
    func submit(_ request: TrainingRequest, base: LoadedModel) throws -> TrainingJob {
        let settings = TrainingSettings(request.options.mapValues(TrainingSettings.Value.init))
        do {
            // Everything that does not depend on the data is checked now, not when the job runs.
            if SweepDefinition.isSweep(settings) {
                // Every point's settings are checked with the definition (the paths are checked below).
                let definition = try SweepDefinition.fromJob(model: base.path, train: request.train, validation: request.validation,
                                                             settings: settings).definition
                for point in definition.points() { _ = try point.settings(base: definition.base).options(classCounts: [1, 1]) }
                if base.textModel == nil {
                    throw ProtocolError(.badRequest, "model \"\(base.name)\" is a linear baseline: a sweep fine-tunes a transformer")
                }
            } else if try settings.method() == .baselineLinear {
                _ = try settings.linearBaseline()
            } else if try settings.method() == .fewShot {
                _ = try settings.fewShot()
                if base.textModel == nil {
                    throw ProtocolError(.badRequest, "model \"\(base.name)\" is a linear baseline: few-shot training tunes a transformer's encoder")
                }
            } else {
                _ = try settings.options(classCounts: [1, 1])
                if base.textModel == nil {
                    throw ProtocolError(.badRequest, "model \"\(base.name)\" is a linear baseline: fine-tuning starts from a transformer")
                }
            }
            _ = try settings.datasetOptions()
            _ = try settings.labels()
            _ = try settings.validationFraction()
        } catch let invalid as TrainingSettings.Invalid {
            if !invalid.description.contains("class_weights") { throw ProtocolError(.badRequest, invalid.description) }
        } catch let e as TrainingDataError {
            throw ProtocolError(.badRequest, e.message)
        }
        for (field, path) in [("train", request.train), ("validation", request.validation)] {
            guard let path else { continue }
            guard path.hasPrefix("/") else { throw ProtocolError(.badRequest, "\"\(field)\" must be an absolute path (the daemon's working directory is not yours)") }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ProtocolError(.badRequest, "\"\(field)\": bertd cannot read \(path)")
            }
        }
        let job = TrainingJob(id: String(nextNumber), name: request.name, baseModel: base.name, basePath: base.path,
                              train: request.train, validation: request.validation, settings: settings, created: Date())
        do {
            try store.save(job)
        } catch {
            throw ProtocolError(.internal, "cannot record the job under \(store.directory.path): \(error)")
        }
        nextNumber += 1
        jobs[job.id] = job
        order.append(job.id)
        enqueue(job)
        return job
    }

    /// A queued job is cancelled at once (it never starts); a running one at its next step.
    func cancel(_ id: String) throws -> TrainingJob {
        guard var job = jobs[id] else { throw ProtocolError(.unknownJob, "no job \"\(id)\"") }
        guard !job.state.isFinal else { throw ProtocolError(.badRequest, "job \(id) is already \(job.state.rawValue)") }
        job.cancelRequested = true
        controls[id]?.cancel()
        if job.state == .queued {
            job.state = .cancelled
            job.finished = Date()
        }
        jobs[id] = job
        try? store.save(job)
        return job
    }

    /// Records what the compute thread reported; returns the job as it now stands.
    @discardableResult
    func record(_ event: JobEvent) -> TrainingJob? {
        let id: String
        switch event {
        case .started(let i), .progress(let i, _), .evaluated(let i, _, _, _), .point(let i, _), .finished(let i, _, _, _), .failed(let i, _),
             .stopped(let i, _):
            id = i
        }
        // A job cancelled while queued is final already; its turn only confirms it.
        guard var job = jobs[id], !job.state.isFinal else { return nil }
        var persist = true
        switch event {
        case .started:
            job.state = .running
            job.started = job.started ?? Date()
        case .progress(_, let p):
            job.progress = p
            persist = false
        case .evaluated(_, _, _, let m):
            job.metrics = m
        case .point:
            persist = false  // the sweep's own point.json is its record
        case .finished(_, let m, let served, _):
            job.state = .finished
            job.servedPath = served
            job.served = true
            job.metrics = m ?? job.metrics
            job.finished = Date()
            controls[id] = nil
        case .failed(_, let message):
            job.state = .failed
            job.error = message
            job.finished = Date()
            controls[id] = nil
        case .stopped(_, let cancelled):
            job.state = cancelled ? .cancelled : .interrupted
            if cancelled { job.finished = Date() }
            job.resume = !cancelled
            controls[id] = nil
        }
        jobs[id] = job
        if persist { try? store.save(job) }
        return job
    }

    func outputDirectory(_ id: String) -> URL { store.outputDirectory(id) }

    /// The models finished jobs still serve: the newest job's per name.
    func servedModels() -> [(name: String, path: String)] {
        var newest: [String: TrainingJob] = [:]
        for job in all where job.served && job.servedPath != nil { newest[job.name] = job }
        return newest.values.sorted { Int($0.id) ?? 0 < Int($1.id) ?? 0 }.map { ($0.name, $0.servedPath!) }
    }

    /// `name` no longer serves a job's model (unloaded, or another directory loaded under it).
    func unserve(_ name: String, except path: String? = nil) {
        for id in order where jobs[id]?.name == name && jobs[id]?.served == true && jobs[id]?.servedPath != path {
            jobs[id]?.served = false
            try? store.save(jobs[id]!)
        }
    }

    private func enqueue(_ job: TrainingJob) {
        let control = JobControl()
        if job.cancelRequested { control.cancel() }
        controls[job.id] = control
        let output = store.outputDirectory(job.id)
        let events = self.events
        scheduler.submitTraining { context in
            JobRunner.run(job, output: output, control: control, context: context, post: { events.post([$0]) })
        }
    }

}

extension TrainingSettings.Value {
    /// A training option as the protocol carries it, and back.
    init(_ wire: TrainingValue) {
        switch wire {
        case .string(let s): self = .string(s)
        case .integer(let i): self = .integer(i)
        case .number(let d): self = .number(d)
        case .bool(let b): self = .bool(b)
        }
    }

    var json: JSON {
        switch self {
        case .string(let s): return .string(s)
        case .integer(let i): return .int(i)
        case .number(let d): return .number(d)
        case .bool(let b): return .bool(b)
        }
    }
}
