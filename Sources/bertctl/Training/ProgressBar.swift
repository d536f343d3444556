import BertTraining
import Foundation

/// One status line on stderr, rewritten in place: epoch, step, loss, examples/s, ETA; a line of
/// validation metrics after each evaluation.
struct ProgressBar {
    var label = ""

    func show(_ p: FineTuneRun.Progress) {
        if let m = p.evaluation {
            return write(String(format: "\r\u{1B}[K%@epoch %d/%d  validation: %@\n", label, p.epoch, p.epochs, m.summary))
        }
        step(epoch: p.epoch, epochs: p.epochs, step: p.step, totalSteps: p.totalSteps, loss: p.loss,
             learningRate: p.learningRate, examplesPerSecond: p.examplesPerSecond, secondsLeft: p.secondsLeft)
    }

    func step(epoch: Int, epochs: Int, step: Int, totalSteps: Int, loss: Double, learningRate: Double,
              examplesPerSecond: Double, secondsLeft: Double) {
        let width = 24
        let done = min(width, Int(Double(width) * Double(step) / Double(max(totalSteps, 1))))
        let bar = String(repeating: "█", count: done) + String(repeating: "·", count: width - done)
        write(String(format: "\r\u{1B}[K%@epoch %d/%d %@ step %d/%d  loss %.4f  lr %.2e  %.1f ex/s  ETA %@",
                     label, epoch, epochs, bar, step, totalSteps, loss, learningRate, examplesPerSecond,
                     Self.duration(secondsLeft)))
    }

    func evaluation(epoch: Int, epochs: Int, loss: Double, accuracy: Double, macroF1: Double, rocAUC: Double?) {
        let auc = rocAUC.map { String(format: "  roc_auc %.4f", $0) } ?? ""
        write(String(format: "\r\u{1B}[K%@epoch %d/%d  validation: loss %.4f  accuracy %.4f  macro_f1 %.4f%@\n",
                     label, epoch, epochs, loss, accuracy, macroF1, auc))
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
