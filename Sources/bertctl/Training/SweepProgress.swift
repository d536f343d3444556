import BertTraining
import Foundation

/// A sweep's progress on stderr: a line when a run starts, resumes, ends or is skipped, and the
/// run's own progress bar (`ProgressBar`) labelled with the run's number.
final class SweepProgress {
    private var bar = ProgressBar()
    private let total: Int

    /// - Parameter total: the runs of the sweep (configurations × seeds).
    init(total: Int) { self.total = total }

    func show(_ event: SweepRun.Event) {
        switch event {
        case let .started(point, number, resuming, epochs):
            bar.label = "[\(number)] "
            write("[\(number)] \(resuming ? "resuming" : "training") \(point.name) (of \(total) runs) up to epoch \(epochs)\n")
        case let .progress(_, progress):
            bar.show(progress)
        case let .finished(point, record):
            let best = record.best().map { String(format: "%.4f", $0) } ?? "n/a"
            let state = record.state == .paused ? "paused after epoch \(record.epochsTrained)" : "done"
            write("\r\u{1B}[K\(bar.label)\(point.name): \(state), best \(record.metric.rawValue) \(best)\n")
        case let .skipped(point):
            write("skipped \(point.name): the time budget is spent\n")
        case let .round(epochs, configurations):
            write("halving: \(configurations) configuration\(configurations == 1 ? " trains" : "s train") to epoch \(epochs)\n")
        }
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
