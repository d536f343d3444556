import BertTraining
import Foundation

/// One status line on stderr, rewritten in place: epoch, step, loss, examples/s, ETA; a line of
/// validation metrics after each evaluation.
struct ProgressBar {
    var label = ""

    func show(_ p: FineTuneRun.Progress) {
        if let m = p.evaluation {
            let auc = m.rocAUC.map { String(format: "  roc_auc %.4f", $0) } ?? ""
            write(String(format: "\r\u{1B}[K%@epoch %d/%d  validation: loss %.4f  accuracy %.4f  macro_f1 %.4f%@\n",
                         label, p.epoch, p.epochs, m.loss, m.accuracy, m.macroF1, auc))
            return
        }
        let width = 24
        let done = Int(Double(width) * Double(p.step) / Double(max(p.totalSteps, 1)))
        let bar = String(repeating: "█", count: done) + String(repeating: "·", count: width - done)
        write(String(format: "\r\u{1B}[K%@epoch %d/%d %@ step %d/%d  loss %.4f  lr %.2e  %.1f ex/s  ETA %@",
                     label, p.epoch, p.epochs, bar, p.step, p.totalSteps, p.loss, p.learningRate, p.examplesPerSecond,
                     Self.duration(p.secondsLeft)))
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
