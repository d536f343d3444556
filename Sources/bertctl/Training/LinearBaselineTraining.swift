import ArgumentParser
import BertBaselines
import BertCore
import BertTraining
import Foundation

/// `bertctl train --local --method baseline-linear`: TF-IDF word 1–2-grams and char_wb 3–5-grams
/// with an L2 logistic regression (scikit-learn's recipe), trained in seconds and saved as a
/// baseline directory that bertctl and bertd classify and evaluate like any model.
struct LinearBaselineTraining {
    let command: TrainCommand

    func run() throws {
        guard let out = command.out else { return }
        if command.kfold != nil { throw CommandFailure(description: "--kfold is for fine-tuning; train the baseline on each split instead") }
        do {
            let threads = command.threads ?? ComputeThreads.cores
            let data = try command.loadData()
            let settings = try command.hyper.settings.linearBaseline()
            let options = LinearBaselineOptions(settings: settings, threads: threads)
            let terminal = isatty(STDERR_FILENO) == 1
            let baseline = try LinearBaseline.train(data, options: options) { p in
                guard terminal, p.phase == .fitting, p.iteration % 10 == 0 else { return }
                let label = p.label.map { " \($0)" } ?? ""
                FileHandle.standardError.write(Data("\r\u{1B}[Kfitting\(label): iteration \(p.iteration), loss \(String(format: "%.6f", p.objective ?? .nan))".utf8))
            }
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            try baseline.save(to: URL(fileURLWithPath: out))
            guard let report = baseline.report else { return }
            if command.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                return print(String(decoding: try encoder.encode(report), as: UTF8.self))
            }
            let metrics = report.validation ?? report.train
            print("\(report.validation == nil ? "training set" : "validation"): \(metrics.summary)")
            print(String(format: "trained in %.1f s (%.1f s features, %.1f s fitting; %d word and %d char n-grams, %d L-BFGS iterations)",
                         report.seconds.total, report.seconds.features, report.seconds.fit, report.wordFeatures, report.charFeatures,
                         report.iterations))
            print("model: \(out) (a linear baseline: bertctl classify/eval --local and bertd serve it; transformers does not read it)")
        } catch let e as TrainingDataError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        } catch let invalid as TrainingSettings.Invalid {
            throw ValidationError(invalid.description)
        }
    }
}
