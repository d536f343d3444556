import BertCore

/// The loss and cosines of one contrastive step.
public struct ContrastiveOutput: Sendable {
    public var loss: Float
    /// Each pair's cosine (the dot product of its two unit embeddings).
    public var cosines: [Float]
}

// SetFit's body training (setfit/trainer.py with sentence-transformers): the encoder → mean
// pooling → L2 normalisation, CosineSimilarityLoss on sentence pairs labelled 1 (same class) or
// 0 (different classes). Forward and backward reuse the encoder's training passes; only the top
// differs from fine-tuning: the embedding of every sequence instead of a head on [CLS].
extension Trainer {
    /// One contrastive step: `batch` holds 2P sequences, pair p being sequences 2p and 2p + 1,
    /// and `targets` the P labels. Zeroes the gradients (unless accumulating), runs the encoder in
    /// training mode (dropout on), and adds the gradient of lossScale × loss to `gradients`.
    /// Needs a trainer made with `Trainer(encoder:options:)`.
    @discardableResult
    public func contrastiveForwardBackward(_ batch: TokenBatch, targets: [Float], zeroingGradients: Bool = true,
                                           lossScale: Float = 1) throws -> ContrastiveOutput {
        let output = try contrastiveForward(batch, targets: targets)
        if zeroingGradients { zeroGradients() }
        let h = model.config.hiddenSize
        var dUnits = [Float](repeating: 0, count: batch.count * h)
        cache.pooledUnit.withUnsafeBufferPointer { units in
            cosineSimilarityLossBackward(dUnits: &dUnits, units: units.baseAddress!, cosines: output.cosines, targets: targets,
                                         dim: h, scale: lossScale)
        }
        let dLast = cache.gradResidual.pointer
        dUnits.withUnsafeBufferPointer { d in
            cache.pooledUnit.withUnsafeBufferPointer { units in
                for s in 0..<batch.count {
                    meanPoolNormalizeBackward(dHidden: dLast + batch.sequenceStarts[s] * h, dUnit: d.baseAddress! + s * h,
                                              unit: units.baseAddress! + s * h, norm: cache.pooledNorm[s],
                                              tokens: batch.length(of: s), dim: h)
                }
            }
        }
        for l in stride(from: model.config.numLayers - 1, through: 0, by: -1) { layerBackward(l, batch: batch) }
        if plan.embeddings { embeddingsBackward(batch) }
        return output
    }

    /// The training-mode forward and loss of `contrastiveForwardBackward`, without a backward.
    public func contrastiveLoss(_ batch: TokenBatch, targets: [Float]) throws -> ContrastiveOutput {
        try contrastiveForward(batch, targets: targets)
    }

    private func contrastiveForward(_ batch: TokenBatch, targets: [Float]) throws -> ContrastiveOutput {
        guard lora == nil, plan.lowestBackwardLayer == 0 else {
            throw BertError(.unsupportedModel, "contrastive training trains the whole encoder (make the trainer with Trainer(encoder:))")
        }
        guard batch.count == 2 * targets.count, !targets.isEmpty else {
            throw BertError(.invalidInput, "\(batch.count) sequences for \(targets.count) pairs: a pair is two consecutive sequences")
        }
        try model.validate(batch)
        let c = model.config
        let offsets = attentionProbabilityOffsets(sequenceStarts: batch.sequenceStarts, numHeads: c.numHeads)
        cache.probabilityOffsets = offsets
        cache.reserve(tokens: batch.tokenCount, sequences: batch.count, longest: batch.longestSequence,
                      probabilities: offsets.last!, config: c, classes: 1, options: options, lora: nil, threads: pool.threadCount)
        let pass = dropoutPass
        dropoutPass &+= 1
        embeddingsForward(batch, pass: pass)
        for l in 0..<c.numLayers { layerForward(l, batch: batch, pass: pass) }
        // units (2P, H): each sequence's mean-pooled, normalised last hidden state.
        let h = c.hiddenSize
        let last = cache.layers[c.numLayers - 1].output.pointer
        cache.pooledUnit = [Float](repeating: 0, count: batch.count * h)
        cache.pooledNorm = [Float](repeating: 0, count: batch.count)
        cache.similarity = []
        var cosines = [Float](repeating: 0, count: targets.count)
        let loss = cache.pooledUnit.withUnsafeMutableBufferPointer { units -> Float in
            for s in 0..<batch.count {
                cache.pooledNorm[s] = meanPoolNormalizeForward(unit: units.baseAddress! + s * h, hidden: last + batch.sequenceStarts[s] * h,
                                                               tokens: batch.length(of: s), dim: h)
            }
            return cosineSimilarityLossForward(cosines: &cosines, units: units.baseAddress!, targets: targets, dim: h)
        }
        return ContrastiveOutput(loss: loss, cosines: cosines)
    }
}
