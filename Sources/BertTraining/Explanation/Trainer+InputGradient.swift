import BertCore

// The two passes explanations need from the training engine: a forward that starts from given
// embeddings-module outputs instead of token ids, and the backward of chosen outputs down to
// those outputs. Captum's LayerIntegratedGradients on `model.bert.embeddings` does the same with
// a forward hook that replaces the layer's output. Shapes: T tokens of the padding-free batch,
// E the embeddings' width (H, or ELECTRA's embedding_size before embeddings_project), C outputs.
//
// The outputs of a sequence are its classification logits, or — for an encoder without a head,
// explained zero-shot — the cosine similarities of its sentence embedding (mean-pooled,
// normalised, as `TransformerModel.embed`) with label vectors (C, H).

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

    /// The model's forward from `embedded` (T, E), the embeddings module's output per token: the
    /// outputs of each sequence — its logits, or with `similarity[s]` (C label vectors of width H,
    /// back to back) the cosines of its sentence embedding with them (none for an encoder without
    /// a head and without label vectors). Afterwards the cache holds every activation, attention
    /// probabilities included.
    @discardableResult
    func forward(_ batch: TokenBatch, embedded: UnsafePointer<Float>, similarity: [[Float]]? = nil) throws -> [[Float]] {
        try model.validate(batch)
        let c = model.config
        let offsets = attentionProbabilityOffsets(sequenceStarts: batch.sequenceStarts, numHeads: c.numHeads)
        cache.probabilityOffsets = offsets
        cache.reserve(tokens: batch.tokenCount, sequences: batch.count, longest: batch.longestSequence,
                      probabilities: offsets.last!, config: c, classes: max(numLabels, 1), options: options, lora: nil,
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
        cache.similarity = similarity ?? []
        if let similarity { return cosines(batch, similarity) }
        guard model.hasClassificationHead else { return Array(repeating: [], count: batch.count) }  // attention maps only
        headForward(batch, pass: pass)
        let classes = numLabels
        return (0..<batch.count).map { Array(UnsafeBufferPointer(start: cache.logits.pointer + $0 * classes, count: classes)) }
    }

    /// Per sequence s: m = mean of its last hidden states, u = m/‖m‖, output_c = u · v_c.
    private func cosines(_ batch: TokenBatch, _ similarity: [[Float]]) -> [[Float]] {
        let h = model.config.hiddenSize
        let last = cache.layers[model.config.numLayers - 1].output.pointer
        cache.pooledUnit = [Float](repeating: 0, count: batch.count * h)
        cache.pooledNorm = [Float](repeating: 0, count: batch.count)
        return (0..<batch.count).map { s -> [Float] in
            let n = batch.length(of: s)
            var mean = [Float](repeating: 0, count: h)
            for tok in batch.sequenceStarts[s]..<batch.sequenceStarts[s + 1] {
                for c in 0..<h { mean[c] += last[tok * h + c] }
            }
            for c in 0..<h { mean[c] /= Float(n) }
            let norm = max(mean.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            cache.pooledNorm[s] = norm
            for c in 0..<h { cache.pooledUnit[s * h + c] = mean[c] / norm }
            let vectors = similarity[s], labels = vectors.count / h
            return (0..<labels).map { k in
                (0..<h).reduce(Float(0)) { $0 + cache.pooledUnit[s * h + $1] * vectors[k * h + $1] }
            }
        }
    }

    /// After `forward`: the gradient (T, E) of Σ_s Σ_c outputGradient[s][c] · output[s][c] with
    /// respect to `embedded`, written to `gradient`.
    func backwardToEmbedded(_ batch: TokenBatch, outputGradient: [[Float]], gradient: UnsafeMutablePointer<Float>) {
        precondition(plan.inputGradient, "a trainer made with Trainer(explaining:) computes input gradients")
        let (t, h, e) = (batch.tokenCount, model.config.hiddenSize, model.tree.embeddings.width)
        precondition(outputGradient.count == batch.count)
        if cache.similarity.isEmpty {
            let classes = numLabels
            for (s, row) in outputGradient.enumerated() {
                precondition(row.count == classes)
                (cache.gradLogits.pointer + s * classes).update(from: row, count: classes)
            }
            headBackward(batch)
        } else {
            // output_c = u·v_c, u = m/‖m‖, m = mean of the rows: ∂/∂m = (g − (g·u)u)/‖m‖ with
            // g = Σ_c ∂output_c · v_c; each row of the sequence gets ∂/∂m / L.
            let dLast = cache.gradResidual.pointer
            for s in 0..<batch.count {
                let vectors = cache.similarity[s]
                var g = [Float](repeating: 0, count: h)
                for (k, weight) in outputGradient[s].enumerated() where weight != 0 {
                    for c in 0..<h { g[c] += weight * vectors[k * h + c] }
                }
                let u = Array(cache.pooledUnit[(s * h)..<((s + 1) * h)])
                let along = zip(g, u).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                let scale = 1 / (cache.pooledNorm[s] * Float(batch.length(of: s)))
                for tok in batch.sequenceStarts[s]..<batch.sequenceStarts[s + 1] {
                    for c in 0..<h { dLast[tok * h + c] = (g[c] - along * u[c]) * scale }
                }
            }
        }
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
