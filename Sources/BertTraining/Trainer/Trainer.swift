import BertCore

/// Training forward and backward of a `*ForSequenceClassification` model on padding-free
/// batches: loss, logits, and the gradient of every trainable parameter in `gradients`, an
/// arena with the model's own layout (so the optimizer walks parameters and gradients with
/// the same offsets), plus the LoRA adapters' gradients when LoRA is on.
///
///     let trainer = try Trainer(model: model, options: TrainingOptions(dropout: .huggingFaceDefault))
///     let optimizer = AdamW(groups: trainer.parameterGroups, config: AdamWConfig(weightDecay: 0.01))
///     let schedule = LearningRateSchedule(peak: 5e-5, shape: .linear, warmupSteps: 100, totalSteps: 1000)
///     for (batch, labels) in data {
///         let out = try trainer.forwardBackward(batch, labels: labels)  // out.loss, out.logits
///         optimizer.step(learningRate: schedule.learningRate(step: optimizer.stepCount), maxGradNorm: 1)
///     }
///
/// The optimizer updates `model.parameters` in place: a model being trained must not serve
/// inference on other threads at the same time.
public final class Trainer {
    public let model: TransformerModel
    public let options: TrainingOptions
    /// ∂loss/∂parameter for every trainable parameter of the model (frozen ones stay zero).
    public let gradients: ParameterArena
    /// The adapters when options.lora is set (new, PEFT-initialised; `lora.load` replaces them).
    public let lora: LoRAAdapters?
    /// The forward pass number that picks the next dropout masks; every forward advances it.
    /// Set it back to repeat a pass's masks (gradient checks).
    public var dropoutPass: UInt64 = 0

    let plan: TrainablePlan
    let cache = ActivationCache()
    let rng: DropoutRNG
    let pool: ComputePool
    var numLabels: Int { model.numLabels }

    public convenience init(model: TransformerModel, options: TrainingOptions = TrainingOptions()) throws {
        guard model.hasClassificationHead else {
            throw BertError(.unsupportedModel, "training needs a classification head (load the model with a head or extra head weights)")
        }
        try self.init(model: model, options: options, trainsHead: true)
    }

    /// A trainer of the encoder alone, for objectives on its sentence embeddings
    /// (`contrastiveForwardBackward`): a head, if the model has one, and BERT's pooler, which
    /// the embedding does not read, get no gradient and are not in `parameterGroups` (PyTorch's
    /// AdamW skips parameters whose gradient is None, weight decay included).
    public convenience init(encoder model: TransformerModel, options: TrainingOptions = TrainingOptions()) throws {
        guard options.lora == nil else { throw BertError(.unsupportedModel, "training the encoder alone does not take LoRA") }
        try self.init(model: model, options: options, trainsHead: false)
    }

    private init(model: TransformerModel, options: TrainingOptions, trainsHead: Bool) throws {
        try options.validate(config: model.config)
        self.model = model
        self.options = options
        gradients = ParameterArena(layout: model.tree.layout)
        lora = try options.lora.map { try LoRAAdapters(model: model, config: $0, seed: options.seed) }
        plan = TrainablePlan(config: model.config, options: options)
        rng = DropoutRNG(seed: options.seed)
        pool = ComputeThreads.pool
        let plan = plan
        let base = model.family.weightPrefix + "."
        func encoderPart(_ name: String) -> Bool { name.hasPrefix(base) && !name.hasPrefix(base + "pooler.") }
        var groups = [ParameterGroup(parameters: model.parameters, gradients: gradients,
                                     specs: model.tree.layout.specs.filter { plan.trains($0.name) && (trainsHead || encoderPart($0.name)) })]
        if let lora { groups.append(ParameterGroup(parameters: lora.parameters, gradients: lora.gradients, specs: lora.layout.specs)) }
        parameterGroups = groups
    }

    /// A trainer that trains nothing and computes the gradient of the logits with respect to the
    /// embeddings' output (`Trainer+InputGradient.swift`), without a gradient arena of the
    /// model's size. Dropout is off: what it computes is what inference computes.
    init(explaining model: TransformerModel) {
        self.model = model
        options = TrainingOptions(freezing: .encoder, dropout: .none)
        gradients = ParameterArena(layout: ParameterBuilder().layout)  // empty: nothing trains
        lora = nil
        plan = TrainablePlan(inputGradientOf: model.config)
        rng = DropoutRNG(seed: 0)
        pool = ComputeThreads.pool
        parameterGroups = []
    }

    /// The trainable tensors with their gradients, for the optimizer and gradient clipping:
    /// the model's (all but the frozen ones) and, with LoRA, every adapter tensor.
    public let parameterGroups: [ParameterGroup]

    /// Zeroes the gradients of every trainable tensor (frozen ones are never written).
    public func zeroGradients() {
        for group in parameterGroups {
            for spec in group.specs { group.gradients[spec.ref].update(repeating: 0, count: spec.ref.count) }
        }
    }

    /// One training step's forward and backward: zeroes the gradients (unless accumulating over
    /// micro-batches), runs the model in training mode (dropout on), computes the loss against
    /// `labels` (one per sequence) and adds the gradient of lossScale × loss to `gradients` /
    /// `lora.gradients`. To accumulate a large batch from micro-batches, pass
    /// zeroingGradients: false after the first and lossScale = micro-batch size / batch size.
    @discardableResult
    public func forwardBackward(_ batch: TokenBatch, labels: [Int], zeroingGradients: Bool = true,
                                lossScale: Float = 1) throws -> TrainingOutput {
        try forwardBackward(batch, targets: .classes(labels), zeroingGradients: zeroingGradients, lossScale: lossScale)
    }

    /// `forwardBackward` towards any kind of targets: classes, label sets or values.
    @discardableResult
    /// With `windows`, the batch's sequences are the windows of documents and the targets are the
    /// documents': the loss is on the aggregated logits, and its gradient flows to every window.
    public func forwardBackward(_ batch: TokenBatch, targets: TrainingTargets, windows: WindowGroups? = nil,
                                aggregation: WindowAggregation = .mean, zeroingGradients: Bool = true,
                                lossScale: Float = 1) throws -> TrainingOutput {
        let output = try forwardLoss(batch, targets: targets, windows: windows.map { ($0, aggregation) })
        if zeroingGradients { zeroGradients() }
        if lossScale != 1 {
            for i in 0..<(batch.count * numLabels) { cache.gradLogits.pointer[i] *= lossScale }
        }
        headBackward(batch)
        if let lowest = plan.lowestBackwardLayer {
            for l in stride(from: model.config.numLayers - 1, through: lowest, by: -1) { layerBackward(l, batch: batch) }
            if plan.embeddings { embeddingsBackward(batch) }
        }
        return output
    }

    /// The training-mode forward and loss without a backward (dropout on: same masks as a
    /// `forwardBackward` at the same `dropoutPass`).
    public func loss(_ batch: TokenBatch, labels: [Int]) throws -> TrainingOutput {
        try forwardLoss(batch, targets: .classes(labels))
    }

    public func loss(_ batch: TokenBatch, targets: TrainingTargets, windows: WindowGroups? = nil,
                     aggregation: WindowAggregation = .mean) throws -> TrainingOutput {
        try forwardLoss(batch, targets: targets, windows: windows.map { ($0, aggregation) })
    }

    private func forwardLoss(_ batch: TokenBatch, targets: TrainingTargets,
                             windows: (groups: WindowGroups, aggregation: WindowAggregation)? = nil) throws -> TrainingOutput {
        try model.validate(batch)
        let rows = windows?.groups.documents ?? batch.count
        guard targets.count(classes: numLabels) == rows else {
            throw BertError(.invalidInput, "\(targets.count(classes: numLabels)) targets for \(rows) \(windows == nil ? "sequences" : "documents")")
        }
        if let windows, windows.groups.windows != batch.count || windows.groups.counts.contains(where: { $0 < 1 }) {
            throw BertError(.invalidInput, "window groups of \(windows.groups.windows) sequences for a batch of \(batch.count), or a document without windows")
        }
        try options.loss.validate(targets: targets, classes: numLabels)
        let c = model.config
        let offsets = attentionProbabilityOffsets(sequenceStarts: batch.sequenceStarts, numHeads: c.numHeads)
        cache.probabilityOffsets = offsets
        cache.reserve(tokens: batch.tokenCount, sequences: batch.count, longest: batch.longestSequence,
                      probabilities: offsets.last!, config: c, classes: numLabels, options: options, lora: lora,
                      threads: pool.threadCount)
        let pass = dropoutPass
        dropoutPass &+= 1
        embeddingsForward(batch, pass: pass)
        for l in 0..<c.numLayers { layerForward(l, batch: batch, pass: pass) }
        headForward(batch, pass: pass)
        guard let windows else {
            let loss = options.loss.evaluate(logits: cache.logits.pointer, targets: targets, classes: numLabels,
                                             probs: cache.probs.pointer, dLogits: cache.gradLogits.pointer)
            let logits = (0..<batch.count).map { Array(UnsafeBufferPointer(start: cache.logits.pointer + $0 * numLabels, count: numLabels)) }
            return TrainingOutput(loss: loss, logits: logits)
        }
        // Windows (S, C) → documents (D, C) → loss; ∂loss/∂documents back to every window.
        let k = numLabels
        var documents = [Float](repeating: 0, count: rows * k), dDocuments = documents
        windowAggregationForward(out: &documents, rows: cache.logits.pointer, groups: windows.groups, classes: k,
                                 aggregation: windows.aggregation)
        let loss = options.loss.evaluate(logits: documents, targets: targets, classes: k, probs: cache.probs.pointer, dLogits: &dDocuments)
        windowAggregationBackward(dRows: cache.gradLogits.pointer, dOut: dDocuments, rows: cache.logits.pointer,
                                  groups: windows.groups, classes: k, aggregation: windows.aggregation)
        let logits: [[Float]] = (0..<rows).map { d in Array(documents[(d * k)..<((d + 1) * k)]) }
        return TrainingOutput(loss: loss, logits: logits)
    }

    /// Draws a dropout mask of `count` elements into `mask` when p > 0; returns it, or nil.
    func drawMask(_ mask: FloatBuffer, count: Int, p: Float, pass: UInt64, site: UInt64) -> UnsafeMutablePointer<Float>? {
        guard p > 0 else { return nil }
        dropoutMask(mask.pointer, count: count, p: p, rng: rng, pass: pass, site: site, pool: pool)
        return mask.pointer
    }
}
