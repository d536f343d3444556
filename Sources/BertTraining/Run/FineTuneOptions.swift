import BertCore

/// Every knob of a fine-tuning run, with the Hugging Face recipe's defaults
/// (lr 5e-5, batch 32, 10 % warm-up then linear decay, weight decay 0.01 except biases and
/// LayerNorm, gradient clipping at 1, dropout 0.1, max length 128).
public struct FineTuneOptions: Sendable {
    public enum Method: Sendable, Equatable {
        case full
        /// The encoder frozen; its outputs do not change, so only the head learns.
        case headOnly
        /// The lower k transformer layers (and the embeddings) frozen.
        case freezeLower(Int)
        case lora(LoRAConfig)
    }

    public var method: Method = .full
    public var epochs = 3
    public var batchSize = 32
    public var gradientAccumulation = 1
    public var learningRate: Float = 5e-5
    public var warmupRatio: Double = 0.1
    public var schedule: LearningRateSchedule.Shape = .linear
    public var weightDecay: Float = 0.01
    public var maxGradNorm: Float? = 1
    /// Layer-wise learning-rate decay (e.g. 0.9): lower layers learn more slowly; nil: off.
    public var layerDecay: Float?
    public var dropout: DropoutRates = .huggingFaceDefault
    public var loss: LossFunction = .crossEntropy
    public var seed: UInt64 = 42
    public var maxLength = 128
    /// Long documents: train (and evaluate) on overlapping windows of every text, the loss on
    /// each document's aggregated logits (nil: texts are truncated to `maxLength`).
    public var windows: LongDocumentPolicy?
    /// Binary single-label: tune the decision threshold of label 1 on the validation set and
    /// store it in config.json (multi-label runs always tune theirs).
    public var tuneThreshold = false
    /// Evaluate every N optimizer steps as well as at every epoch's end (nil: epochs only).
    public var evalEverySteps: Int?
    /// The metric that picks the checkpoint kept, and early stopping's patience (nil: never stop).
    public var selectionMetric: Metric = .loss
    public var patience: Int?
    /// LoRA: also write `merged/`, the kept model with its adapters folded into the weights.
    public var mergeLoRA = false
    /// Also leave a resume point every N optimizer steps inside an epoch (nil: at epoch ends
    /// only), so a crash loses at most N steps.
    public var checkpointEverySteps: Int?

    public init() {}

    /// The loss for the data's task: the configured one if it fits the task; the task's standard
    /// loss (binary cross-entropy, mean squared error) in place of the default cross-entropy.
    func loss(for task: Task) throws -> LossFunction {
        if loss.task == task { return loss }
        guard loss == .crossEntropy else {
            throw TrainingDataError(.invalidOption, "the loss \(loss) is for \(loss.task.rawValue), but the data is \(task.rawValue)")
        }
        switch task {
        case .singleLabel: return .crossEntropy
        case .multiLabel: return .binaryCrossEntropy(positiveWeights: nil)
        case .regression: return .meanSquaredError
        }
    }

    var trainingOptions: TrainingOptions {
        var freezing: Freezing = .none
        var lora: LoRAConfig?
        switch method {
        case .full: break
        case .headOnly: freezing = .encoder
        case .freezeLower(let k): freezing = .lowerLayers(k)
        case .lora(let config): lora = config
        }
        return TrainingOptions(freezing: freezing, dropout: dropout, loss: loss, seed: seed, lora: lora)
    }

    var methodName: String {
        switch method {
        case .full: return "full"
        case .headOnly: return "head-only"
        case .freezeLower(let k): return "freeze-lower-\(k)"
        case .lora(let c): return "lora-r\(c.rank)"
        }
    }

    var reportConfiguration: [String: ReportValue] {
        [
            "method": .string(methodName), "epochs": .number(Double(epochs)), "batch_size": .number(Double(batchSize)),
            "gradient_accumulation": .number(Double(gradientAccumulation)), "learning_rate": .number(Double(learningRate)),
            "warmup_ratio": .number(warmupRatio), "schedule": .string("\(schedule)"), "weight_decay": .number(Double(weightDecay)),
            "max_grad_norm": maxGradNorm.map { .number(Double($0)) } ?? .string("none"),
            "layer_decay": layerDecay.map { .number(Double($0)) } ?? .string("none"),
            "dropout": .number(Double(dropout.hidden)), "loss": .string("\(loss)"), "seed": .number(Double(seed)),
            "max_length": .number(Double(maxLength)), "selection_metric": .string(selectionMetric.rawValue),
            "patience": patience.map { .number(Double($0)) } ?? .string("none"),
            "windows": windows.map { .string("\($0.window) tokens, overlap \($0.overlap), \($0.aggregation.rawValue)") } ?? .string("none"),
        ]
    }
}
