import BertProtocol
import BertTraining
import Foundation
import ZeroMQ

/// Training jobs as the protocol shows them, and what happens when the compute thread reports
/// on one: record it, publish its event, serve its result when it finishes. I/O thread only.
extension BertServer {
    func record(_ event: JobEvent) {
        guard let job = jobs.record(event) else { return }
        defer { recordJobMetrics() }
        let id: (String, JSON) = ("job", .string(job.id))
        switch event {
        case .started:
            log.notice("job \(job.id) started\(job.resume ? " (resuming)" : "")")
            publish(.jobStarted, [id, ("name", .string(job.name)), ("resumed", .bool(job.resume))])
        case .progress(_, let p):
            publish(.jobStep, [id] + progressFields(p))
        case .evaluated(_, let epoch, let epochs, let m):
            publish(.jobEval, [id, ("epoch", .int(epoch)), ("epochs", .int(epochs)), ("metrics", metricsJSON(m))])
        case .point(_, let p):
            publish(.jobPoint, [id, ("run", .string(p.run)), ("state", .string(p.state)), ("metric", .string(p.metric)),
                                ("best", p.best.map { .number($0) } ?? .null), ("epochs", .int(p.epochs)), ("runs", .int(p.runs))])
        case .finished(_, _, let served, let seconds):
            log.notice("job \(job.id) finished in \(Int(seconds)) s; serving it as \(job.name)")
            publish(.jobFinished, [id, ("name", .string(job.name)), ("path", .string(served)), ("seconds", .number(seconds))]
                    + (job.metrics.map { [("metrics", metricsJSON($0))] } ?? []))
            startLoad(.init(name: job.name, path: served), reply: nil)
        case .failed(_, let message):
            log.warning("job \(job.id) failed: \(message)")
            publish(.jobFailed, [id, ("message", .string(message))])
        case .stopped(_, let cancelled):
            log.notice("job \(job.id) \(cancelled ? "cancelled" : "interrupted: it resumes at the next start")")
            publish(cancelled ? .jobCancelled : .jobInterrupted, [id])
        }
    }

    func recordJobMetrics() {
        var counts = Dictionary(uniqueKeysWithValues: TrainingJob.State.allCases.map { ($0.rawValue, 0) })
        for job in jobs.all { counts[job.state.rawValue, default: 0] += 1 }
        let progress = jobs.running?.progress
        metrics.jobs(byState: counts, step: progress?.step ?? 0, loss: progress?.loss ?? 0,
                     examplesPerSecond: progress?.examplesPerSecond ?? 0)
    }

    func jobJSON(_ job: TrainingJob) -> JSON {
        let iso = ISO8601DateFormatter()
        var fields: [(String, JSON)] = [
            ("id", .string(job.id)), ("name", .string(job.name)), ("state", .string(job.state.rawValue)),
            ("model", .string(job.baseModel)), ("train", .string(job.train)),
            ("validation", job.validation.map { .string($0) } ?? .null),
            ("options", .object(job.settings.values.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) })),
            ("created", .string(iso.string(from: job.created))),
            ("started", job.started.map { .string(iso.string(from: $0)) } ?? .null),
            ("finished", job.finished.map { .string(iso.string(from: $0)) } ?? .null),
            ("cancel_requested", .bool(job.cancelRequested)), ("resumed", .bool(job.resume)),
            ("output", .string(jobs.outputDirectory(job.id).path)),
        ]
        fields.append(("progress", job.progress.map { .object(progressFields($0)) } ?? .null))
        fields.append(("metrics", job.metrics.map(metricsJSON) ?? .null))
        fields.append(("error", job.error.map { .string($0) } ?? .null))
        return .object(fields)
    }

    private func progressFields(_ p: TrainingJob.Progress) -> [(String, JSON)] {
        [("epoch", .int(p.epoch)), ("epochs", .int(p.epochs)), ("step", .int(p.step)), ("total_steps", .int(p.totalSteps)),
         ("loss", .number(p.loss)), ("learning_rate", .number(p.learningRate)),
         ("examples_per_s", .number(p.examplesPerSecond)), ("seconds_left", .number(p.secondsLeft.isFinite ? p.secondsLeft : 0))]
    }

    private func metricsJSON(_ m: TrainingJob.Metrics) -> JSON {
        var fields: [(String, JSON)] = [("loss", .number(m.loss)), ("accuracy", .number(m.accuracy)), ("macro_f1", .number(m.macroF1)),
                                        ("roc_auc", m.rocAUC.map { .number($0) } ?? .null)]
        if let t = m.multiLabel {
            fields.append(("multi_label", .object([("micro_f1", .number(t.microF1)), ("hamming_loss", .number(t.hammingLoss)),
                                                   ("label_ranking_average_precision", .number(t.labelRankingAveragePrecision))])))
        }
        if let r = m.regression {
            fields.append(("regression", .object([("mse", .number(r.mse)), ("mae", .number(r.mae)),
                                                  ("pearson", .number(r.pearson)), ("spearman", .number(r.spearman))])))
        }
        if let labels = m.labels, let confusion = m.confusion, !confusion.isEmpty {
            fields += [("labels", .array(labels.map { .string($0) })),
                       ("confusion", .array(confusion.map { .array($0.map { .int($0) }) }))]
        }
        return .object(fields)
    }
}
