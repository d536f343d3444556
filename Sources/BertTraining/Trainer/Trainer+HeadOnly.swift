import BertCore

extension Trainer {
    /// Head-only training on cached encoder outputs: `features` (B, H) are each sequence's first
    /// token from the frozen encoder's last layer. The encoder never runs, so epochs after the
    /// first (which computes the features once, without dropout) cost almost nothing; dropout in
    /// the head still applies. Same loss, logits and head gradients as `forwardBackward` on the
    /// sequences with encoder dropout off.
    @discardableResult
    public func headForwardBackward(features: [[Float]], labels: [Int]) throws -> TrainingOutput {
        guard plan.lowestBackwardLayer == nil, lora == nil else {
            throw BertError(.invalidInput, "head-only training on cached features needs the encoder frozen (freezing: .encoder) and no LoRA")
        }
        let (b, h, c) = (features.count, model.config.hiddenSize, model.config)
        guard b > 0, labels.count == b, features.allSatisfy({ $0.count == h }) else {
            throw BertError(.invalidInput, "\(b) feature rows of width \(features.first?.count ?? 0) and \(labels.count) labels; expected rows of \(h)")
        }
        try options.loss.validate(labels: labels, classes: numLabels)
        // One position per example: the head reads "the first token" of each 1-token sequence.
        let batch = TokenBatch(sequences: Array(repeating: [0], count: b))
        let offsets = attentionProbabilityOffsets(sequenceStarts: batch.sequenceStarts, numHeads: c.numHeads)
        cache.probabilityOffsets = offsets
        cache.reserve(tokens: b, sequences: b, longest: 1, probabilities: offsets.last!, config: c, classes: numLabels,
                      options: options, lora: nil, threads: pool.threadCount)
        let last = cache.layers[c.numLayers - 1].output.pointer
        for (s, row) in features.enumerated() { row.withUnsafeBufferPointer { (last + s * h).update(from: $0.baseAddress!, count: h) } }
        let pass = dropoutPass
        dropoutPass &+= 1
        headForward(batch, pass: pass)
        let loss = options.loss.evaluate(logits: cache.logits.pointer, labels: labels, classes: numLabels,
                                         probs: cache.probs.pointer, dLogits: cache.gradLogits.pointer)
        zeroGradients()
        headBackward(batch)
        let logits = (0..<b).map { Array(UnsafeBufferPointer(start: cache.logits.pointer + $0 * numLabels, count: numLabels)) }
        return TrainingOutput(loss: loss, logits: logits)
    }
}
