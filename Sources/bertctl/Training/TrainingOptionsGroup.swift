import ArgumentParser
import BertCore
import BertTraining

/// The hyper-parameters of `bertctl train`, defaults as in Hugging Face's fine-tuning recipe.
struct TrainingOptionsGroup: ParsableArguments {
    @Option(help: "How to fine-tune: every weight, the head only, LoRA adapters, or all but the lowest --freeze-layers layers.")
    var method = MethodChoice.full
    @Option(help: "With --method freeze-lower: how many lower layers to freeze.") var freezeLayers = 0
    @Option(help: "LoRA rank.") var loraRank = 8
    @Option(help: "LoRA alpha (scale = alpha / rank).") var loraAlpha: Float = 16
    @Option(help: "LoRA dropout.") var loraDropout: Float = 0
    @Option(help: "LoRA target projections: any of the values, comma-separated.") var loraTargets = LoRATargetList([.query, .value])
    @Flag(help: "With --method lora: also write OUT/merged, the model with the adapters folded in.") var mergeLora = false
    @Option(help: "Epochs (default: 3; --method few-shot: 1, over the sentence pairs).") var epochs: Int?
    @Option(help: "Examples per optimizer step (per micro-batch with --gradient-accumulation; default: 32; --method few-shot: 16 sentence pairs).") var batchSize: Int?
    @Option(help: "Micro-batches per optimizer step.") var gradientAccumulation = 1
    @Option(name: .customLong("lr"), help: "Peak learning rate (default: 5e-5; --method few-shot: 2e-5, SetFit's).") var learningRate: Float?
    @Option(help: "Warm-up as a fraction of all steps.") var warmupRatio: Double = 0.1
    @Option(help: "The learning rate after warm-up.") var schedule = ScheduleChoice.linear
    @Option(help: "AdamW weight decay (not on biases and LayerNorm).") var weightDecay: Float = 0.01
    @Option(help: "Clip gradients to this global norm (0: no clipping).") var maxGradNorm: Float = 1
    @Option(help: "Layer-wise learning-rate decay, e.g. 0.9 (the head keeps --lr, each layer below gets ×decay).") var layerDecay: Float?
    @Option(help: "Dropout on hidden states, attention and the head.") var dropout: Float = 0.1
    @Option(help: "The loss. Single-label: cross-entropy (--label-smoothing), weighted (--class-weights), focal (--focal-gamma). Multi-label: bce (the default), weighted (--pos-weight), focal (sigmoid; --focal-alpha). Regression: mse (the default), huber (--huber-delta).") var loss = LossChoice.crossEntropy
    @Option(help: "With cross-entropy: label smoothing ε, as PyTorch's CrossEntropyLoss(label_smoothing=ε).") var labelSmoothing: Float = 0
    @Option(help: "Multi-label, --loss weighted: \"balanced\" (negatives/positives per label) or one weight per label.") var posWeight = "balanced"
    @Option(help: "Multi-label, --loss focal: alpha (negative: none).") var focalAlpha: Float = 0.25
    @Option(help: "Regression, --loss huber: delta.") var huberDelta: Float = 1
    @Option(help: "With --loss weighted: \"balanced\" or one weight per label, comma-separated.") var classWeights = "balanced"
    @Option(help: "With --loss focal: gamma.") var focalGamma: Float = 2
    @Option(help: "Random seed (data order, dropout, new head).") var seed: UInt64 = 42
    @Option(help: "Tokens per text, special tokens included.") var maxLength = 128
    @Option(help: "Long documents: train and evaluate on overlapping windows of this many tokens (0: the model's maximum), the loss on each text's aggregated logits; the checkpoint then serves long texts the same way.") var window: Int?
    @Option(help: "With windows: tokens consecutive windows share (default: a quarter of the window).") var stride: Int?
    @Option(help: "With windows: how a text's logits come from its windows' (implies windows).") var aggregate: WindowAggregation?
    @Option(name: .customLong("c"), help: "--method baseline-linear and few-shot: sklearn's C, the inverse L2 strength of the logistic regression.") var baselineC: Double = 1
    @Option(help: "--method few-shot: sentence pairs per training text and kind (SetFit's num_iterations; default: every same-class pair, the different-class ones oversampled to as many).") var pairIterations: Int?
    @Option(help: "--method baseline-linear: keep n-grams in at least this many training texts.") var minDf = 2
    @Option(help: "--method baseline-linear: at most this many n-grams per vectorizer, the most frequent (0: all).") var maxFeatures = 200_000
    @Flag(help: "--method baseline-linear: word n-grams only, no character 3–5-grams.") var noCharNgrams = false
    @Flag(help: "Binary single-label: tune label 1's decision threshold on the validation set (F1), stored in config.json and used when serving.") var tuneThreshold = false
    @Option(help: "Also evaluate every N optimizer steps.") var evalSteps: Int?
    @Option(help: "Also write last-checkpoint/ every N optimizer steps (default: at the end of each epoch).") var checkpointEvery: Int?
    @Option(help: "The metric that picks the kept checkpoint (and that --patience watches).") var metric = Metric.loss
    @Option(help: "Stop after this many evaluations without improvement.") var patience: Int?

    /// The options as named settings: what `--local` runs with, and what a daemon job receives.
    var settings: TrainingSettings {
        var v: [String: TrainingSettings.Value] = [
            "method": .string(method.rawValue), "freeze_layers": .integer(freezeLayers), "lora_rank": .integer(loraRank),
            "lora_alpha": .number(Double(loraAlpha)), "lora_dropout": .number(Double(loraDropout)),
            "lora_targets": .string(loraTargets.settingValue), "merge_lora": .bool(mergeLora),
            "gradient_accumulation": .integer(gradientAccumulation),
            "warmup_ratio": .number(warmupRatio), "schedule": .string(schedule.rawValue),
            "weight_decay": .number(Double(weightDecay)), "max_grad_norm": .number(Double(maxGradNorm)),
            "dropout": .number(Double(dropout)), "loss": .string(loss.rawValue), "class_weights": .string(classWeights),
            "focal_gamma": .number(Double(focalGamma)), "seed": .integer(Int(seed)), "max_length": .integer(maxLength),
            "metric": .string(metric.rawValue), "label_smoothing": .number(Double(labelSmoothing)), "pos_weight": .string(posWeight),
            "focal_alpha": .number(Double(focalAlpha)), "huber_delta": .number(Double(huberDelta)),
        ]
        if let epochs { v["epochs"] = .integer(epochs) }
        if let batchSize { v["batch_size"] = .integer(batchSize) }
        if let learningRate { v["learning_rate"] = .number(Double(learningRate)) }
        if let layerDecay { v["layer_decay"] = .number(Double(layerDecay)) }
        if let evalSteps { v["eval_steps"] = .integer(evalSteps) }
        if let checkpointEvery { v["checkpoint_every"] = .integer(checkpointEvery) }
        if let patience { v["patience"] = .integer(patience) }
        if tuneThreshold { v["tune_threshold"] = .bool(true) }
        if let window { v["window"] = .integer(window) }
        if let stride { v["stride"] = .integer(stride) }
        if let aggregate { v["aggregate"] = .string(aggregate.rawValue) }
        if method == .fewShot {
            v["c"] = .number(baselineC)
            if let pairIterations { v["pair_iterations"] = .integer(pairIterations) }
        }
        if method == .baselineLinear {
            v["c"] = .number(baselineC)
            v["min_df"] = .integer(minDf)
            v["max_features"] = .integer(maxFeatures)
            v["char_ngrams"] = .bool(!noCharNgrams)
        }
        return TrainingSettings(v)
    }

    func validate() throws {
        if method == .baselineLinear {
            do { _ = try settings.linearBaseline() } catch let invalid as TrainingSettings.Invalid { throw ValidationError(invalid.description) }
            return
        }
        if method == .fewShot {
            do { _ = try settings.fewShot() } catch let invalid as TrainingSettings.Invalid { throw ValidationError(invalid.description) }
            return
        }
        do {
            _ = try settings.options(classCounts: [1, 1])
        } catch let invalid as TrainingSettings.Invalid
            where !["class_weights", "pos_weight", "is not for"].contains(where: invalid.description.contains) {
            // (Weights need the data's counts, and whether the loss fits the task needs --task:
            // both are checked when the data is read.)
            throw ValidationError(invalid.description)  // names the setting: "--x-y" is "x_y"
        } catch is TrainingSettings.Invalid {}
    }

    /// The run's options; class counts are needed for "balanced" weights.
    func options(classCounts: [Int], examples: Int? = nil, data: [String: TrainingSettings.Value] = [:]) throws -> FineTuneOptions {
        do {
            return try TrainingSettings(settings.values.merging(data) { a, _ in a }).options(classCounts: classCounts, examples: examples)
        } catch let invalid as TrainingSettings.Invalid {
            throw ValidationError(invalid.description)
        }
    }
}
