import ArgumentParser
import BertCore
import BertTraining

/// The hyper-parameters of `bertctl train`, defaults as in Hugging Face's fine-tuning recipe.
struct TrainingOptionsGroup: ParsableArguments {
    @Option(help: "full | head-only | lora | freeze-lower") var method = "full"
    @Option(help: "With --method freeze-lower: how many lower layers to freeze.") var freezeLayers = 0
    @Option(help: "LoRA rank.") var loraRank = 8
    @Option(help: "LoRA alpha (scale = alpha / rank).") var loraAlpha: Float = 16
    @Option(help: "LoRA dropout.") var loraDropout: Float = 0
    @Option(help: "LoRA target projections, comma-separated (query,key,value,attention_output,intermediate,output).") var loraTargets = "query,value"
    @Flag(help: "With --method lora: also write OUT/merged, the model with the adapters folded in.") var mergeLora = false
    @Option(help: "Epochs.") var epochs = 3
    @Option(help: "Examples per optimizer step (per micro-batch with --gradient-accumulation).") var batchSize = 32
    @Option(help: "Micro-batches per optimizer step.") var gradientAccumulation = 1
    @Option(name: .customLong("lr"), help: "Peak learning rate.") var learningRate: Float = 5e-5
    @Option(help: "Warm-up as a fraction of all steps.") var warmupRatio: Double = 0.1
    @Option(help: "linear | constant | cosine (after warm-up).") var schedule = "linear"
    @Option(help: "AdamW weight decay (not on biases and LayerNorm).") var weightDecay: Float = 0.01
    @Option(help: "Clip gradients to this global norm (0: no clipping).") var maxGradNorm: Float = 1
    @Option(help: "Layer-wise learning-rate decay, e.g. 0.9 (the head keeps --lr, each layer below gets ×decay).") var layerDecay: Float?
    @Option(help: "Dropout on hidden states, attention and the head.") var dropout: Float = 0.1
    @Option(help: "cross-entropy | weighted | focal") var loss = "cross-entropy"
    @Option(help: "With --loss weighted: \"balanced\" or one weight per label, comma-separated.") var classWeights = "balanced"
    @Option(help: "With --loss focal: gamma.") var focalGamma: Float = 2
    @Option(help: "Random seed (data order, dropout, new head).") var seed: UInt64 = 42
    @Option(help: "Tokens per text, special tokens included.") var maxLength = 128
    @Option(help: "Also evaluate every N optimizer steps.") var evalSteps: Int?
    @Option(help: "Also write last-checkpoint/ every N optimizer steps (default: at the end of each epoch).") var checkpointEvery: Int?
    @Option(help: "The metric that picks the kept checkpoint: loss | accuracy | macro_f1 | macro_precision | macro_recall | roc_auc.") var metric = "loss"
    @Option(help: "Stop after this many evaluations without improvement.") var patience: Int?

    func validate() throws {
        if !["full", "head-only", "lora", "freeze-lower"].contains(method) { throw ValidationError("--method must be full, head-only, lora or freeze-lower") }
        if epochs < 1 || batchSize < 1 || gradientAccumulation < 1 || maxLength < 2 { throw ValidationError("--epochs, --batch-size, --gradient-accumulation must be at least 1 and --max-length at least 2") }
        if learningRate <= 0 { throw ValidationError("--lr must be positive") }
        if !(0...1).contains(warmupRatio) { throw ValidationError("--warmup-ratio must be between 0 and 1") }
        if !(0..<1).contains(dropout) || !(0..<1).contains(loraDropout) { throw ValidationError("dropout must be in [0, 1)") }
        if Metric(rawValue: metric) == nil { throw ValidationError("--metric must be one of \(Metric.allCases.map(\.rawValue).joined(separator: ", "))") }
        if !["linear", "constant", "cosine"].contains(schedule) { throw ValidationError("--schedule must be linear, constant or cosine") }
        if !["cross-entropy", "weighted", "focal"].contains(loss) { throw ValidationError("--loss must be cross-entropy, weighted or focal") }
    }

    /// The run's options; class counts are needed for "balanced" weights.
    func options(classCounts: [Int]) throws -> FineTuneOptions {
        var o = FineTuneOptions()
        switch method {
        case "head-only": o.method = .headOnly
        case "freeze-lower": o.method = .freezeLower(freezeLayers)
        case "lora":
            var targets: [LoRATarget] = []
            for name in loraTargets.split(separator: ",") {
                guard let t = LoRATarget(rawValue: String(name).trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("unknown LoRA target \(name) (\(LoRATarget.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                targets.append(t)
            }
            o.method = .lora(LoRAConfig(rank: loraRank, alpha: loraAlpha, dropout: loraDropout, targets: targets))
        default: o.method = .full
        }
        o.mergeLoRA = mergeLora
        o.epochs = epochs
        o.batchSize = batchSize
        o.gradientAccumulation = gradientAccumulation
        o.learningRate = learningRate
        o.warmupRatio = warmupRatio
        o.schedule = schedule == "cosine" ? .cosine : schedule == "constant" ? .constant : .linear
        o.weightDecay = weightDecay
        o.maxGradNorm = maxGradNorm > 0 ? maxGradNorm : nil
        if let layerDecay {
            guard layerDecay > 0 && layerDecay <= 1 else { throw ValidationError("--layer-decay must be in (0, 1]") }
            o.layerDecay = layerDecay
        }
        o.dropout = DropoutRates(hidden: dropout, attention: dropout, classifier: dropout)
        switch loss {
        case "weighted":
            if classWeights == "balanced" {
                let total = Float(classCounts.reduce(0, +))
                o.loss = .weightedCrossEntropy(classWeights: classCounts.map { total / (Float(classCounts.count) * Float(max($0, 1))) })
            } else {
                let w = classWeights.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
                guard w.count == classCounts.count else { throw ValidationError("--class-weights needs \(classCounts.count) numbers or \"balanced\"") }
                o.loss = .weightedCrossEntropy(classWeights: w)
            }
        case "focal": o.loss = .focal(gamma: focalGamma)
        default: o.loss = .crossEntropy
        }
        o.seed = seed
        o.maxLength = maxLength
        o.evalEverySteps = evalSteps
        if let checkpointEvery, checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1") }
        o.checkpointEverySteps = checkpointEvery
        o.selectionMetric = Metric(rawValue: metric) ?? .loss
        o.patience = patience
        return o
    }
}
