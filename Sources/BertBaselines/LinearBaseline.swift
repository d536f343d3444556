import BertCore
import BertTraining
import Foundation

/// The linear baseline a transformer is compared with: TF-IDF word and char_wb n-grams
/// (`TextFeatures`) and an L2-regularised logistic regression fitted by L-BFGS
/// (`LogisticRegression`), each step matching scikit-learn (see `LinearBaselineOptions` for the
/// equivalent sklearn pipeline). Single-label data gets a multinomial model (a binary one for
/// two classes, as sklearn fits); multi-label data one binary model per label
/// (OneVsRestClassifier). Regression and sentence pairs are not supported.
///
/// Immutable once trained or loaded, so one instance serves any number of threads.
public final class LinearBaseline: Sendable {
    /// `kind` in baseline.json and the report.
    public static let kind = "linear-tfidf"

    public let labels: [String]
    public let task: BertTraining.Task
    public let options: LinearBaselineOptions
    /// The report of the training that made the model (nil when a loaded directory has none).
    public let report: LinearBaselineReport?
    let features: TextFeatures
    let scores: LinearScores

    init(labels: [String], task: BertTraining.Task, options: LinearBaselineOptions, features: TextFeatures,
         scores: LinearScores, report: LinearBaselineReport?) {
        self.labels = labels
        self.task = task
        self.options = options
        self.features = features
        self.scores = scores
        self.report = report
    }

    /// What the progress callback sees: the phase, and during fitting each L-BFGS iteration.
    public struct Progress: Sendable {
        public enum Phase: String, Sendable { case features, fitting, evaluating }
        public var phase: Phase
        /// The label being fitted, for a one-vs-rest model.
        public var label: String?
        public var iteration: Int = 0
        public var objective: Double?
        public var gradientNorm: Double?
    }

    /// How its logits become scores: a sigmoid per label (one-vs-rest) or a softmax.
    public var scoring: ModelConfig.Scoring { task == .multiLabel ? .sigmoid : .softmax }

    /// Weights and biases of the classifier (what `models` reports as its size).
    public var parameterCount: Int { scores.weights.count + scores.bias.count }

    /// Terms in the word and char vocabularies (the columns of a text's feature row).
    public var featureCounts: (word: Int, char: Int) {
        (features.word.vocabulary.count, features.char?.vocabulary.count ?? 0)
    }

    // MARK: - Inference

    /// The scores of each text before softmax (single-label) or sigmoid (multi-label), one per
    /// label. A binary model's are [0, z], z being sklearn's decision_function (see
    /// `LinearScores.Scoring.binaryLogistic`).
    public func logits(_ texts: [String]) -> [[Float]] {
        scores.logits(features.transform(texts, threads: options.threads))
    }

    /// sklearn's predict_proba: softmax of the logits (single-label), or a sigmoid per label.
    public func probabilities(_ texts: [String]) -> [[Double]] {
        logits(texts).map { row in
            switch task {
            case .multiLabel: return row.map { sigmoid(Double($0)) }
            default:
                let m = Double(row.max() ?? 0)
                let e = row.map { Foundation.exp(Double($0) - m) }
                let total = e.reduce(0, +)
                return e.map { $0 / total }
            }
        }
    }

    /// The metrics of the model on labelled data, as a transformer run reports them.
    public func evaluate(_ data: LabelledDataset) -> ClassificationMetrics {
        Self.metrics(logits: logits(data.examples.map(\.text)), data: data, labels: labels)
    }

    static func metrics(logits: [[Float]], data: LabelledDataset, labels: [String]) -> ClassificationMetrics {
        // ClassificationMetrics reads the truth from a TokenizedDataset; no tokens are needed.
        let none = [[Int32]](repeating: [], count: data.count)
        var truth = TokenizedDataset(ids: none, typeIds: none, labels: data.labels)
        truth.task = data.task
        truth.labelSets = data.labelSets
        truth.values = data.values
        truth.outputs = labels.count
        return ClassificationMetrics(outputs: logits, data: truth, labelNames: labels)
    }

    // MARK: - Training

    /// Trains on `data.train` and reports metrics on `data.validation` (when it has examples).
    public static func train(_ data: TrainingData, options: LinearBaselineOptions = LinearBaselineOptions(),
                             progress: (Progress) throws -> Void = { _ in }) throws -> LinearBaseline {
        try train(data.train, validation: data.validation.count > 0 ? data.validation : nil, options: options, progress: progress)
    }

    public static func train(_ train: LabelledDataset, validation: LabelledDataset? = nil,
                             options: LinearBaselineOptions = LinearBaselineOptions(),
                             progress: (Progress) throws -> Void = { _ in }) throws -> LinearBaseline {
        let started = Date()
        try options.validate()
        try check(train, validation: validation)
        let labels = train.labelSet.names

        try progress(Progress(phase: .features))
        let (features, x) = try TextFeatures.fit(train.examples.map(\.text), options: options)
        let featuresDone = Date()

        let solverOptions = LBFGS.Options(maxIterations: options.maxIterations, gradientTolerance: options.tolerance)
        let (scores, runs) = try fit(x, data: train, labels: labels, options: options, solver: solverOptions, progress: progress)
        let fitDone = Date()

        try progress(Progress(phase: .evaluating))
        let trainMetrics = metrics(logits: scores.logits(x), data: train, labels: labels)
        let validationMetrics = validation.map {
            metrics(logits: scores.logits(features.transform($0.examples.map(\.text), threads: options.threads)), data: $0, labels: labels)
        }
        let done = Date()
        let report = LinearBaselineReport(
            trainExamples: train.count, validationExamples: validation?.count ?? 0,
            wordFeatures: features.word.vocabulary.count, charFeatures: features.char?.vocabulary.count ?? 0,
            seconds: .init(features: featuresDone.timeIntervalSince(started), fit: fitDone.timeIntervalSince(featuresDone),
                           evaluation: done.timeIntervalSince(fitDone), total: done.timeIntervalSince(started)),
            solver: runs, train: trainMetrics, validation: validationMetrics)
        return LinearBaseline(labels: labels, task: train.task, options: options, features: features, scores: scores, report: report)
    }

    /// Bad input is an error with a message, never a crash.
    private static func check(_ train: LabelledDataset, validation: LabelledDataset?) throws {
        guard train.task != .regression else {
            throw TrainingDataError(.invalidOption, "the linear baseline is a classifier: regression data is not supported")
        }
        guard train.count > 0 else { throw TrainingDataError(.notEnoughData, "the training data has no examples") }
        if train.examples.contains(where: { $0.pair != nil }) || validation?.examples.contains(where: { $0.pair != nil }) == true {
            throw TrainingDataError(.invalidOption, "the linear baseline takes single texts: sentence pairs are not supported")
        }
        if let validation, validation.labelSet != train.labelSet || validation.task != train.task {
            throw TrainingDataError(.invalidOption, "the validation data must have the training data's task and labels")
        }
        if train.task == .singleLabel {
            let missing = zip(train.labelSet.names, train.classCounts).filter { $0.1 == 0 }.map { "\"\($0.0)\"" }
            guard missing.isEmpty else {
                throw TrainingDataError(.notEnoughData, "every class needs training examples; none for \(missing.joined(separator: ", "))"
                                        + (missing.count == train.labelSet.count - 1 ? " (the training data has one class)" : ""))
            }
        }
    }

    /// The classifier of the task, float32 as served, and a record of each solver run.
    private static func fit(_ x: SparseMatrix, data: LabelledDataset, labels: [String], options: LinearBaselineOptions,
                            solver: LBFGS.Options, progress: (Progress) throws -> Void) throws -> (LinearScores, [LinearBaselineReport.SolverRun]) {
        func record(_ fit: LogisticRegression.Fit, label: String?) -> LinearBaselineReport.SolverRun {
            .init(label: label, iterations: fit.solver.iterations, evaluations: fit.solver.evaluations, stop: fit.solver.stop,
                  objective: fit.solver.value, gradientNorm: fit.solver.gradientNorm, classWeights: fit.classWeights, constant: false)
        }
        let d = x.columns
        switch data.task {
        case .singleLabel:
            let fit = try LogisticRegression.fitClasses(x, labels: data.labels, classes: labels.count, weighting: options.classWeight,
                                                    c: options.c, solver: solver, threads: options.threads) {
                try progress(Progress(phase: .fitting, iteration: $0.iteration, objective: $0.value, gradientNorm: $0.gradientNorm))
            }
            let scores = LinearScores(scoring: labels.count == 2 ? .binaryLogistic : .softmax, features: d,
                                      weights: fit.parameters[0..<(d * fit.outputs)].map { Float($0) },
                                      bias: fit.parameters[(d * fit.outputs)...].map { Float($0) })
            return (scores, [record(fit, label: nil)])
        case .multiLabel:
            let l = labels.count, n = data.count
            var weights = [Float](repeating: 0, count: d * l), bias = [Float](repeating: 0, count: l)
            var runs: [LinearBaselineReport.SolverRun] = []
            for (k, label) in labels.enumerated() {
                let positives = data.labelSets.map { $0.contains(k) }
                let count = positives.lazy.filter { $0 }.count
                if count == 0 || count == n {
                    // OneVsRestClassifier predicts a constant here (probability exactly 0 or 1).
                    // A finite logit, that of (count + ½) / (n + 1), keeps every output finite
                    // (JSON has no infinity) and predicts the same.
                    bias[k] = Float(Foundation.log((Double(count) + 0.5) / (Double(n - count) + 0.5)))
                    runs.append(.init(label: label, iterations: 0, evaluations: 0, stop: .converged, objective: 0, gradientNorm: 0,
                                      classWeights: [], constant: true))
                    continue
                }
                let fit = try LogisticRegression.fitBinary(x, positives: positives, weighting: options.classWeight, c: options.c,
                                                       solver: solver, threads: options.threads) {
                    try progress(Progress(phase: .fitting, label: label, iteration: $0.iteration, objective: $0.value, gradientNorm: $0.gradientNorm))
                }
                for j in 0..<d { weights[j * l + k] = Float(fit.parameters[j]) }
                bias[k] = Float(fit.parameters[d])
                runs.append(record(fit, label: label))
            }
            return (LinearScores(scoring: .oneVsRest, features: d, weights: weights, bias: bias), runs)
        case .regression:
            throw TrainingDataError(.invalidOption, "the linear baseline is a classifier: regression data is not supported")
        }
    }
}
