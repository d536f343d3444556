import ArgumentParser
import BertCore
import BertFewShot
import BertTraining
import Foundation

/// `bertctl train --local --method few-shot`: SetFit's recipe on the training file (a handful of
/// texts per class): the encoder tuned on sentence pairs, then a logistic regression on its
/// embeddings; the directory is served by bertd and read by eval/classify/compare like any model.
struct FewShotTraining {
    let command: TrainCommand

    func run() throws {
        guard let model = command.model, let out = command.out else { return }
        if command.kfold != nil { throw CommandFailure(description: "--kfold is for fine-tuning; train few-shot on each split instead") }
        if command.resume { throw CommandFailure(description: "a few-shot run takes seconds to minutes and has no resume point; run it again") }
        ComputeThreads.set(command.threads ?? ComputeThreads.cores)
        let signals = StopSignals()
        do {
            // Without --validation every text trains: a handful per class is too few to hold some out.
            let data = try command.loadData(split: false)
            let options = try command.hyper.settings.fewShot()
            let bar = ProgressBar()
            let started = monotonicSeconds()
            let base = URL(fileURLWithPath: model)
            let result = try FewShotRun.train(baseModel: base, data: data, options: options, progress: { p in
                guard p.phase == .training else {
                    return FileHandle.standardError.write(Data("\r\u{1B}[K\(p.phase == .head ? "fitting the head on the tuned embeddings" : "evaluating")…".utf8))
                }
                let elapsed = monotonicSeconds() - started
                bar.step(epoch: p.epoch, epochs: options.epochs, step: p.step, totalSteps: p.totalSteps, loss: Double(p.loss ?? 0),
                         learningRate: Double(p.learningRate ?? 0), examplesPerSecond: Double(p.step * options.batchSize * 2) / max(elapsed, 1e-9),
                         secondsLeft: elapsed / Double(p.step) * Double(p.totalSteps - p.step))
            }, shouldStop: { signals.stopRequested })
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            try FewShotCheckpoint.write(result, baseModel: base, to: URL(fileURLWithPath: out))
            let r = result.report
            if command.json { return print(String(decoding: try r.json(), as: UTF8.self)) }
            if let v = r.validation { print("validation: \(v.summary)") }
            print(String(format: "trained in %.1f s (%.1f s on %d sentence pairs, %d steps; %.1f s for the head, %d L-BFGS iterations)",
                         r.totalSeconds, r.bodySeconds, r.pairs, r.steps, r.headSeconds, r.headIterations))
            print("model: \(out) (few-shot: bertd serves it as a classifier; transformers loads its encoder)")
        } catch is FewShotRun.Stopped {
            FileHandle.standardError.write(Data("\nstopped; nothing was written\n".utf8))
            throw ExitCode(128 + signals.receivedSignal)
        } catch let e as TrainingDataError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        } catch let e as BertError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        } catch let invalid as TrainingSettings.Invalid {
            throw ValidationError(invalid.description)
        }
    }
}
