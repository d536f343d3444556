/// The recipe of a few-shot run, SetFit's defaults (setfit.TrainingArguments: body learning
/// rate 2e-5, 1 epoch, batch size 16, warm-up 10 %; sentence-transformers' AdamW with gradients
/// clipped to 1; sklearn's LogisticRegression() as the head).
public struct FewShotOptions: Sendable, Equatable {
    public var learningRate: Float = 2e-5
    /// Passes over the sentence pairs.
    public var epochs = 1
    /// Sentence pairs per optimizer step (2 × this many sequences).
    public var batchSize = 16
    public var warmupRatio = 0.1
    public var weightDecay: Float = 0.01
    public var maxGradNorm: Float = 1
    public var dropout: Float = 0.1
    public var seed: UInt64 = 42
    public var maxLength = 128
    /// SetFit's `num_iterations`: that many positive and negative pairs per training text.
    /// nil: SetFit 1.x's default "oversampling" (every pair of texts once, the rarer kind
    /// repeated to as many as the commoner).
    public var pairIterations: Int?
    /// The head's inverse L2 strength (sklearn's C).
    public var c = 1.0

    public init() {}
}
