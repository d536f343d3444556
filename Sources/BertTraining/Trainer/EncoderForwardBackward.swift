import BertCore

// The encoder's training forward and backward, op by op (HF modeling_bert.py BertEmbeddings,
// BertSelfAttention, BertSelfOutput, BertIntermediate, BertOutput; modeling_distilbert.py has the
// same post-LN block without dropout after the attention projection). Shapes: T tokens of the
// padding-free batch, H hidden, I intermediate.

extension Trainer {
    // MARK: embeddings

    /// embeddingOutput (T, H) = dropout(LayerNorm(word + token type + position)), then ELECTRA's
    /// projection (H, E) where the tables' width E differs from H.
    func embeddingsForward(_ batch: TokenBatch, pass: UInt64) {
        let (t, h, p) = (batch.tokenCount, model.config.hiddenSize, model.parameters)
        let emb = model.tree.embeddings
        let e = emb.width
        for s in 0..<batch.count {
            for (i, tok) in (batch.sequenceStarts[s]..<batch.sequenceStarts[s + 1]).enumerated() {
                cache.positions[tok] = Int32(emb.firstPosition + i)
            }
        }
        let sum = cache.embeddingSum.pointer
        let normed = emb.projection == nil ? cache.embeddingOutput.pointer : cache.embeddingNormed.pointer
        let mean = cache.embeddingMean.pointer, rstd = cache.embeddingRstd.pointer
        batch.ids.withUnsafeBufferPointer { ids in
            batch.typeIds.withUnsafeBufferPointer { types in
                cache.positions.withUnsafeBufferPointer { pos in
                    pool.parallelFor(t) { r in
                        embeddingForward(out: sum + r.lowerBound * e, ids: ids.baseAddress! + r.lowerBound,
                                         positions: pos.baseAddress! + r.lowerBound,
                                         typeIds: emb.tokenType == nil ? nil : types.baseAddress! + r.lowerBound,
                                         word: p[emb.word], position: p[emb.position],
                                         tokenType: emb.tokenType.map { p[$0] }, tokens: r.count, hidden: e)
                        layerNormTrainingForward(out: normed + r.lowerBound * e, inp: sum + r.lowerBound * e,
                                                 weight: p[emb.layerNorm.weight], bias: p[emb.layerNorm.bias],
                                                 mean: mean + r.lowerBound, rstd: rstd + r.lowerBound,
                                                 rows: r.count, dim: e, eps: emb.layerNorm.eps)
                    }
                }
            }
        }
        if let mask = drawMask(cache.embeddingMask, count: t * e, p: options.dropout.hidden, pass: pass, site: DropoutSite.embeddings) {
            parallelElementwise(t * e) { r in dropoutForward(out: normed + r.lowerBound, inp: normed + r.lowerBound, mask: mask + r.lowerBound, count: r.count) }
        }
        if let projection = emb.projection {
            // embeddingOutput (T, H) = normed (T, E) · Wpᵀ + bp  (modeling_electra.py embeddings_project)
            linearForward(out: cache.embeddingOutput.pointer, ldo: h, inp: normed, ldi: e, weight: p[projection.weight],
                          rows: t, inF: e, outF: h, pool: pool)
            addBias(cache.embeddingOutput.pointer, ld: h, bias: p[projection.bias], rows: t, cols: h)
        }
    }

    /// Backward of `embeddingsForward`, from the gradient of layer 0's input in gradResidual.
    func embeddingsBackward(_ batch: TokenBatch) {
        let (t, h, p, g) = (batch.tokenCount, model.config.hiddenSize, model.parameters, gradients)
        let emb = model.tree.embeddings
        let e = emb.width
        let fixedPositions = plan.fixedPositions
        var dOut = cache.gradResidual.pointer  // (T, E) below the projection, (T, H) = (T, E) without
        if let projection = emb.projection {
            let dNormed = cache.gradEmbedding.pointer
            linearBackward(dInp: dNormed, ldx: e, accumulateInput: false, dWeight: g[projection.weight], dBias: g[projection.bias],
                           dOut: dOut, ldd: h, inp: cache.embeddingNormed.pointer, ldi: e, weight: p[projection.weight],
                           rows: t, inF: e, outF: h, pool: pool)
            dOut = dNormed
        }
        let dSum = cache.gradScratch.pointer
        if options.dropout.hidden > 0 {
            let mask = cache.embeddingMask.pointer, d = dOut
            parallelElementwise(t * e) { r in dropoutBackward(dInp: d + r.lowerBound, dOut: d + r.lowerBound, mask: mask + r.lowerBound, count: r.count) }
        }
        layerNormBackward(dInp: dSum, dWeight: g[emb.layerNorm.weight], dBias: g[emb.layerNorm.bias], dOut: dOut,
                          inp: cache.embeddingSum.pointer, weight: p[emb.layerNorm.weight],
                          mean: cache.embeddingMean.pointer, rstd: cache.embeddingRstd.pointer,
                          rows: t, dim: e, accumulate: false, pool: pool)
        batch.ids.withUnsafeBufferPointer { ids in
            batch.typeIds.withUnsafeBufferPointer { types in
                cache.positions.withUnsafeBufferPointer { pos in
                    pool.parallelFor(e, granularity: 8) { columns in
                        embeddingBackward(dWord: g[emb.word], dPosition: fixedPositions ? nil : g[emb.position],
                                          dTokenType: emb.tokenType.map { g[$0] },
                                          dOut: dSum, ids: ids.baseAddress!, positions: pos.baseAddress!,
                                          typeIds: emb.tokenType == nil ? nil : types.baseAddress!,
                                          tokens: t, hidden: e, columns: columns)
                    }
                }
            }
        }
    }

    // MARK: one layer

    /// The input (T, H) of layer l: the embeddings' output or the previous layer's output.
    func layerInput(_ l: Int) -> UnsafeMutablePointer<Float> {
        l == 0 ? cache.embeddingOutput.pointer : cache.layers[l - 1].output.pointer
    }

    func layerForward(_ l: Int, batch: TokenBatch, pass: UInt64) {
        let (t, h, i) = (batch.tokenCount, model.config.hiddenSize, model.config.intermediateSize)
        let (layer, a, p) = (model.tree.layers[l], cache.layers[l], model.parameters)
        let drop = options.dropout
        let probabilityOffsets = cache.probabilityOffsets
        let x = layerInput(l)
        // qkv (T, 3H) = x Wqkvᵀ (+ LoRA) + b
        linearForward(out: a.qkv.pointer, ldo: 3 * h, inp: x, ldi: h, weight: p[layer.qkv.weight], rows: t, inF: h, outF: 3 * h, pool: pool)
        for target in [LoRATarget.query, .key, .value] {
            loraForward(l, target, input: x, ldInput: h, output: a.qkv.pointer + loraColumn(target), ldOutput: 3 * h, tokens: t, pass: pass)
        }
        addBias(a.qkv.pointer, ld: 3 * h, bias: p[layer.qkv.bias], rows: t, cols: 3 * h)
        // context (T, H) = softmax(QKᵀ/√d) V
        let probabilityMask = drawMask(a.probabilityMask, count: probabilityOffsets.last!, p: drop.attention, pass: pass,
                                       site: DropoutSite.attentionProbabilities(layer: l))
        attentionTrainingForward(context: a.context.pointer, qkv: a.qkv.pointer, probabilities: a.probabilities.pointer,
                                 dropoutMask: probabilityMask, probabilityOffsets: probabilityOffsets,
                                 sequenceStarts: batch.sequenceStarts, hidden: h, numHeads: model.config.numHeads,
                                 scratch: cache.attentionScratch.pointer, scratchPerThread: cache.attentionScratchPerThread, pool: pool)
        // norm1Output = LN(x + dropout(context Woᵀ + bo))
        let projection = cache.projection.pointer
        linearForward(out: projection, ldo: h, inp: a.context.pointer, ldi: h, weight: p[layer.attentionOutput.weight],
                      rows: t, inF: h, outF: h, pool: pool)
        loraForward(l, .attentionOutput, input: a.context.pointer, ldInput: h, output: projection, ldOutput: h, tokens: t, pass: pass)
        let attentionMask = drawMask(a.attentionMask, count: t * h, p: attentionOutputDropout, pass: pass,
                                     site: DropoutSite.attentionOutput(layer: l))
        residualLayerNorm(output: a.norm1Output.pointer, input: a.norm1Input.pointer, mean: a.norm1Mean.pointer, rstd: a.norm1Rstd.pointer,
                          residual: x, delta: projection, deltaBias: p[layer.attentionOutput.bias], mask: attentionMask,
                          norm: layer.attentionNorm, rows: t)
        // ffnAct (T, I) = act(norm1Output Wiᵀ + bi)
        linearForward(out: a.ffnPre.pointer, ldo: i, inp: a.norm1Output.pointer, ldi: h, weight: p[layer.intermediate.weight],
                      rows: t, inF: h, outF: i, pool: pool)
        loraForward(l, .intermediate, input: a.norm1Output.pointer, ldInput: h, output: a.ffnPre.pointer, ldOutput: i, tokens: t, pass: pass)
        let activation = model.config.activation.kernel
        let (pre, act, bias) = (a.ffnPre.pointer, a.ffnAct.pointer, p[layer.intermediate.bias])
        pool.parallelFor(t) { r in
            biasActivationForward(pre + r.lowerBound * i, ld: i, bias: bias, rows: r.count, cols: i, activation: .identity)
            activationForward(out: act + r.lowerBound * i, inp: pre + r.lowerBound * i, count: r.count * i, activation: activation)
        }
        // output = LN(norm1Output + dropout(ffnAct Wo2ᵀ + bo2))
        linearForward(out: projection, ldo: h, inp: act, ldi: i, weight: p[layer.output.weight], rows: t, inF: i, outF: h, pool: pool)
        loraForward(l, .output, input: act, ldInput: i, output: projection, ldOutput: h, tokens: t, pass: pass)
        let ffnMask = drawMask(a.ffnMask, count: t * h, p: drop.hidden, pass: pass, site: DropoutSite.feedForwardOutput(layer: l))
        residualLayerNorm(output: a.output.pointer, input: a.norm2Input.pointer, mean: a.norm2Mean.pointer, rstd: a.norm2Rstd.pointer,
                          residual: a.norm1Output.pointer, delta: projection, deltaBias: p[layer.output.bias], mask: ffnMask,
                          norm: layer.outputNorm, rows: t)
    }

    /// Backward of layer l: gradResidual holds ∂loss/∂output on entry and ∂loss/∂input on exit
    /// (when a lower part needs it). Weight gradients are added when the layer trains.
    func layerBackward(_ l: Int, batch: TokenBatch) {
        let (t, h, i) = (batch.tokenCount, model.config.hiddenSize, model.config.intermediateSize)
        let (layer, a, p) = (model.tree.layers[l], cache.layers[l], model.parameters)
        let trains = plan.layers[l], needInput = plan.needsInputGradient(layer: l)
        let g: (ParameterRef) -> UnsafeMutablePointer<Float>? = { trains ? self.gradients[$0] : nil }
        let dResidual = cache.gradResidual.pointer, dNorm = cache.gradScratch.pointer
        let x = layerInput(l)

        // output = LN2(norm2Input): dNorm = ∂/∂norm2Input
        layerNormBackward(dInp: dNorm, dWeight: g(layer.outputNorm.weight), dBias: g(layer.outputNorm.bias), dOut: dResidual,
                          inp: a.norm2Input.pointer, weight: p[layer.outputNorm.weight], mean: a.norm2Mean.pointer,
                          rstd: a.norm2Rstd.pointer, rows: t, dim: h, accumulate: false, pool: pool)
        // norm2Input = norm1Output + dropout(ffnAct Wo2ᵀ + bo2)
        let dFfnOut = masked(dNorm, mask: options.dropout.hidden > 0 ? a.ffnMask.pointer : nil, count: t * h)
        let dFfn = cache.gradFfn.pointer
        linearBackward(dInp: dFfn, ldx: i, accumulateInput: false, dWeight: g(layer.output.weight), dBias: g(layer.output.bias),
                       dOut: dFfnOut, ldd: h, inp: a.ffnAct.pointer, ldi: i, weight: p[layer.output.weight],
                       rows: t, inF: i, outF: h, pool: pool)
        loraBackward(l, .output, dOutput: dFfnOut, ldOutput: h, input: a.ffnAct.pointer, ldInput: i, dInput: dFfn, tokens: t)
        let activation = model.config.activation.kernel
        let pre = a.ffnPre.pointer
        parallelElementwise(t * i) { r in
            activationBackward(dInp: dFfn + r.lowerBound, dOut: dFfn + r.lowerBound, inp: pre + r.lowerBound, count: r.count, activation: activation)
        }
        // ffnPre = norm1Output Wiᵀ + bi; dNorm becomes ∂/∂norm1Output (residual + this path)
        loraBackward(l, .intermediate, dOutput: dFfn, ldOutput: i, input: a.norm1Output.pointer, ldInput: h, dInput: dNorm, tokens: t)
        linearBackward(dInp: dNorm, ldx: h, accumulateInput: true, dWeight: g(layer.intermediate.weight), dBias: g(layer.intermediate.bias),
                       dOut: dFfn, ldd: i, inp: a.norm1Output.pointer, ldi: h, weight: p[layer.intermediate.weight],
                       rows: t, inF: h, outF: i, pool: pool)
        // norm1Output = LN1(norm1Input): dResidual = ∂/∂norm1Input
        layerNormBackward(dInp: dResidual, dWeight: g(layer.attentionNorm.weight), dBias: g(layer.attentionNorm.bias), dOut: dNorm,
                          inp: a.norm1Input.pointer, weight: p[layer.attentionNorm.weight], mean: a.norm1Mean.pointer,
                          rstd: a.norm1Rstd.pointer, rows: t, dim: h, accumulate: false, pool: pool)
        // norm1Input = x + dropout(context Woᵀ + bo)
        let dProjection = masked(dResidual, mask: attentionOutputDropout > 0 ? a.attentionMask.pointer : nil, count: t * h)
        let dContext = cache.gradContext.pointer
        linearBackward(dInp: dContext, ldx: h, accumulateInput: false, dWeight: g(layer.attentionOutput.weight),
                       dBias: g(layer.attentionOutput.bias), dOut: dProjection, ldd: h, inp: a.context.pointer, ldi: h,
                       weight: p[layer.attentionOutput.weight], rows: t, inF: h, outF: h, pool: pool)
        loraBackward(l, .attentionOutput, dOutput: dProjection, ldOutput: h, input: a.context.pointer, ldInput: h, dInput: dContext, tokens: t)
        // context = attention(qkv)
        let offsets = cache.probabilityOffsets
        let dqkv = cache.gradQKV.pointer
        attentionBackward(dqkv: dqkv, dContext: dContext, qkv: a.qkv.pointer, probabilities: a.probabilities.pointer,
                          dropoutMask: options.dropout.attention > 0 ? a.probabilityMask.pointer : nil,
                          probabilityOffsets: offsets, sequenceStarts: batch.sequenceStarts, hidden: h,
                          numHeads: model.config.numHeads, scratch: cache.attentionScratch.pointer,
                          scratchPerThread: cache.attentionScratchPerThread, pool: pool)
        // qkv = x Wqkvᵀ + b; dResidual (the residual path, ∂/∂x so far) gains this path
        for target in [LoRATarget.query, .key, .value] {
            loraBackward(l, target, dOutput: dqkv + loraColumn(target), ldOutput: 3 * h, input: x, ldInput: h,
                         dInput: needInput ? dResidual : nil, tokens: t)
        }
        linearBackward(dInp: needInput ? dResidual : nil, ldx: h, accumulateInput: true, dWeight: g(layer.qkv.weight),
                       dBias: g(layer.qkv.bias), dOut: dqkv, ldd: 3 * h, inp: x, ldi: h, weight: p[layer.qkv.weight],
                       rows: t, inF: h, outF: 3 * h, pool: pool)
    }

    // MARK: helpers

    /// HF applies hidden dropout after BERT's attention projection; DistilBERT does not.
    var attentionOutputDropout: Float { model.family.attentionOutputDropout ? options.dropout.hidden : 0 }

    /// output = LN(input), input = residual + dropout(delta + deltaBias), keeping input, mean, rstd.
    private func residualLayerNorm(output: UnsafeMutablePointer<Float>, input: UnsafeMutablePointer<Float>,
                                   mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                                   residual: UnsafePointer<Float>, delta: UnsafePointer<Float>, deltaBias: UnsafePointer<Float>,
                                   mask: UnsafePointer<Float>?, norm: LayerNormWeights, rows t: Int) {
        let h = model.config.hiddenSize
        let (w, b) = (model.parameters[norm.weight], model.parameters[norm.bias])
        pool.parallelFor(t) { r in
            let o = r.lowerBound * h
            residualDropoutForward(sum: input + o, residual: residual + o, delta: delta + o, bias: deltaBias,
                                   mask: mask.map { $0 + o }, rows: r.count, dim: h)
            layerNormTrainingForward(out: output + o, inp: input + o, weight: w, bias: b, mean: mean + r.lowerBound,
                                     rstd: rstd + r.lowerBound, rows: r.count, dim: h, eps: norm.eps)
        }
    }

    /// x[r, c] += bias[c] for a (rows, cols) matrix with row stride ld.
    func addBias(_ x: UnsafeMutablePointer<Float>, ld: Int, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        pool.parallelFor(rows) { r in
            biasActivationForward(x + r.lowerBound * ld, ld: ld, bias: bias, rows: r.count, cols: cols, activation: .identity)
        }
    }

    /// The gradient after a dropout mask: grad ⊙ mask in gradMasked, or grad itself without dropout.
    func masked(_ grad: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>?, count: Int) -> UnsafeMutablePointer<Float> {
        guard let mask else { return grad }
        let out = cache.gradMasked.pointer
        parallelElementwise(count) { r in dropoutBackward(dInp: out + r.lowerBound, dOut: grad + r.lowerBound, mask: mask + r.lowerBound, count: r.count) }
        return out
    }

    func parallelElementwise(_ count: Int, _ body: (Range<Int>) -> Void) {
        pool.parallelFor(count, granularity: 4096, body)
    }
}
