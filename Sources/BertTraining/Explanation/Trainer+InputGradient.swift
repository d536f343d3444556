import BertCore

// The two passes explanations need from the training engine: a forward that starts from given
// embeddings-module outputs instead of token ids, and the backward of chosen logits down to
// those outputs. Captum's LayerIntegratedGradients on `model.bert.embeddings` does the same with
// a forward hook that replaces the layer's output. Shapes: T tokens of the padding-free batch,
// E the embeddings' width (H, or ELECTRA's embedding_size before embeddings_project), C labels.

extension Trainer {
    /// The `embeddings` module's output (T, E) for a batch: LayerNorm(word + token type + position),
    /// with the word vector of the tokens in `zeroWords` left out (the "zero" baseline).
    func embeddingsModuleOutput(_ batch: TokenBatch, zeroWords: [Bool]? = nil) -> [Float] {
        let (t, p) = (batch.tokenCount, model.parameters)
        let emb = model.tree.embeddings
        let e = emb.width
        var positions = [Int32](repeating: 0, count: t)
        for s in 0..<batch.count {
            for (i, tok) in (batch.sequenceStarts[s]..<batch.sequenceStarts[s + 1]).enumerated() {
                positions[tok] = Int32(emb.firstPosition + i)
            }
        }
        var sum = [Float](repeating: 0, count: t * e)
        var out = [Float](repeating: 0, count: t * e)
        var mean = [Float](repeating: 0, count: t), rstd = [Float](repeating: 0, count: t)
        sum.withUnsafeMutableBufferPointer { sum in
            embeddingForward(out: sum.baseAddress!, ids: batch.ids, positions: positions,
                             typeIds: emb.tokenType == nil ? nil : batch.typeIds, word: p[emb.word], position: p[emb.position],
                             tokenType: emb.tokenType.map { p[$0] }, tokens: t, hidden: e)
            if let zeroWords {
                for tok in 0..<t where zeroWords[tok] {
                    let word = p[emb.word] + Int(batch.ids[tok]) * e
                    for c in 0..<e { sum[tok * e + c] -= word[c] }
                }
            }
            layerNormTrainingForward(out: &out, inp: sum.baseAddress!, weight: p[emb.layerNorm.weight], bias: p[emb.layerNorm.bias],
                                     mean: &mean, rstd: &rstd, rows: t, dim: e, eps: emb.layerNorm.eps)
        }
        return out
    }

    /// The model's forward from `embedded` (T, E), the embeddings module's output per token:
    /// logits (B, C). Afterwards the cache holds every activation, attention probabilities included.
    @discardableResult
    func forward(_ batch: TokenBatch, embedded: UnsafePointer<Float>) throws -> [[Float]] {
        try model.validate(batch)
        let c = model.config
        let offsets = attentionProbabilityOffsets(sequenceStarts: batch.sequenceStarts, numHeads: c.numHeads)
        cache.probabilityOffsets = offsets
        cache.reserve(tokens: batch.tokenCount, sequences: batch.count, longest: batch.longestSequence,
                      probabilities: offsets.last!, config: c, classes: numLabels, options: options, lora: nil,
                      threads: pool.threadCount)
        let (t, h, e) = (batch.tokenCount, c.hiddenSize, model.tree.embeddings.width)
        if let projection = model.tree.embeddings.projection {
            // embeddingOutput (T, H) = embedded (T, E) · Wpᵀ + bp  (modeling_electra.py embeddings_project)
            cache.embeddingNormed.pointer.update(from: embedded, count: t * e)
            linearForward(out: cache.embeddingOutput.pointer, ldo: h, inp: embedded, ldi: e, weight: model.parameters[projection.weight],
                          rows: t, inF: e, outF: h, pool: pool)
            addBias(cache.embeddingOutput.pointer, ld: h, bias: model.parameters[projection.bias], rows: t, cols: h)
        } else {
            cache.embeddingOutput.pointer.update(from: embedded, count: t * h)
        }
        let pass = dropoutPass  // dropout is off: the pass number picks nothing
        for l in 0..<c.numLayers { layerForward(l, batch: batch, pass: pass) }
        headForward(batch, pass: pass)
        let classes = numLabels
        return (0..<batch.count).map { Array(UnsafeBufferPointer(start: cache.logits.pointer + $0 * classes, count: classes)) }
    }

    /// After `forward`: the gradient (T, E) of Σ_b Σ_c outputGradient[b·C + c] · logit[b, c] with
    /// respect to `embedded`, written to `gradient`.
    func backwardToEmbedded(_ batch: TokenBatch, outputGradient: [Float], gradient: UnsafeMutablePointer<Float>) {
        precondition(plan.inputGradient, "a trainer made with Trainer(explaining:) computes input gradients")
        let (t, h, e) = (batch.tokenCount, model.config.hiddenSize, model.tree.embeddings.width)
        precondition(outputGradient.count == batch.count * numLabels)
        cache.gradLogits.pointer.update(from: outputGradient, count: outputGradient.count)
        headBackward(batch)
        for l in stride(from: model.config.numLayers - 1, through: 0, by: -1) { layerBackward(l, batch: batch) }
        if let projection = model.tree.embeddings.projection {
            linearBackward(dInp: gradient, ldx: e, accumulateInput: false, dWeight: nil, dBias: nil,
                           dOut: cache.gradResidual.pointer, ldd: h, inp: cache.embeddingNormed.pointer, ldi: e,
                           weight: model.parameters[projection.weight], rows: t, inF: e, outF: h, pool: pool)
        } else {
            gradient.update(from: cache.gradResidual.pointer, count: t * h)
        }
    }

    /// After `forward`: layer l's attention probabilities of sequence s, heads × L × L (row i: how
    /// token i attends to every token), as HF's `output_attentions`.
    func attentionProbabilities(layer l: Int, sequence s: Int, in batch: TokenBatch) -> UnsafeBufferPointer<Float> {
        let n = batch.length(of: s)
        return UnsafeBufferPointer(start: cache.layers[l].probabilities.pointer + cache.probabilityOffsets[s],
                                   count: model.config.numHeads * n * n)
    }
}
