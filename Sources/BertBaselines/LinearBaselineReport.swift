import BertTraining

/// What one training of a linear baseline did and scored, saved as `training_report.json`
/// beside the model: the same metrics (`ClassificationMetrics`: accuracy, macro-F1, ROC-AUC, …)
/// a transformer run reports, so the two compare line by line.
public struct LinearBaselineReport: Sendable, Codable, Equatable {
    /// One L-BFGS run: the whole classifier, or one label of a one-vs-rest model.
    public struct SolverRun: Sendable, Codable, Equatable {
        /// The label of a one-vs-rest model; nil for a single-label model.
        public var label: String?
        public var iterations: Int
        public var evaluations: Int
        /// Why it stopped (`gradient_below_tolerance` is convergence, as sklearn means it).
        public var stop: LBFGS.Stop
        /// The objective at the end: sklearn's weighted mean loss plus ‖W‖² / (2·C·S).
        public var objective: Double
        /// max |gradient component| at the end.
        public var gradientNorm: Double
        /// The class weights used, in label order (for one-vs-rest: [rest, label]).
        public var classWeights: [Double]
        /// true when the label had only one outcome in the training data and got a constant
        /// score instead of a fit (OneVsRestClassifier's `_ConstantPredictor`).
        public var constant: Bool

        enum CodingKeys: String, CodingKey {
            case label, iterations, evaluations, stop, objective, constant
            case gradientNorm = "gradient_norm", classWeights = "class_weights"
        }
    }

    public struct Seconds: Sendable, Codable, Equatable {
        /// Vectorizer fit and transform of the training texts.
        public var features: Double
        /// The L-BFGS fits.
        public var fit: Double
        /// Metrics on the training and validation data.
        public var evaluation: Double
        public var total: Double
    }

    public var kind = LinearBaseline.kind
    public var trainExamples: Int
    public var validationExamples: Int
    public var wordFeatures: Int
    public var charFeatures: Int
    public var seconds: Seconds
    public var solver: [SolverRun]
    /// Training iterations over all solver runs.
    public var iterations: Int { solver.reduce(0) { $0 + $1.iterations } }
    public var converged: Bool { solver.allSatisfy { $0.constant || $0.stop == .converged || $0.stop == .relativeReduction } }
    public var train: ClassificationMetrics
    public var validation: ClassificationMetrics?

    enum CodingKeys: String, CodingKey {
        case kind, seconds, solver, train, validation
        case trainExamples = "train_examples", validationExamples = "validation_examples"
        case wordFeatures = "word_features", charFeatures = "char_features"
    }

    /// Totals written for readers of the JSON; recomputed from `solver` when read back.
    private enum TotalKeys: String, CodingKey { case iterations, converged }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(trainExamples, forKey: .trainExamples)
        try c.encode(validationExamples, forKey: .validationExamples)
        try c.encode(wordFeatures, forKey: .wordFeatures)
        try c.encode(charFeatures, forKey: .charFeatures)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(solver, forKey: .solver)
        try c.encode(train, forKey: .train)
        try c.encodeIfPresent(validation, forKey: .validation)
        var totals = encoder.container(keyedBy: TotalKeys.self)
        try totals.encode(iterations, forKey: .iterations)
        try totals.encode(converged, forKey: .converged)
    }
}
