import BertCore

// The sequence-classification head as the family's `HeadShape` describes it (ModuleTree's
// `ClassificationHead`): the first token of each sequence, [dropout], the first dense layer and
// its activation, dropout, the output layer. BERT: pooler dense → tanh → dropout → classifier;
// RoBERTa: dropout → dense → tanh → dropout → out_proj; ELECTRA the same with GELU.

extension Trainer {
    /// logits (B, C) from the last layer's output.
    func headForward(_ batch: TokenBatch, pass: UInt64) {
        let (b, h, p) = (batch.count, model.config.hiddenSize, model.parameters)
        let head = model.tree.head!
        let last = cache.layers[model.config.numLayers - 1].output.pointer
        let input = cache.headInput.pointer
        for s in 0..<b { (input + s * h).update(from: last + batch.sequenceStarts[s] * h, count: h) }
        let p1 = head.inputDropout ? options.dropout.classifier : 0
        if let mask = drawMask(cache.headInputMask, count: b * h, p: p1, pass: pass, site: DropoutSite.headInput) {
            dropoutForward(out: input, inp: input, mask: mask, count: b * h)
        }
        let (pre, hidden) = (cache.headPre.pointer, cache.headHidden.pointer)
        linearForward(out: pre, ldo: h, inp: input, ldi: h, weight: p[head.first.weight], rows: b, inF: h, outF: h, pool: pool)
        biasActivationForward(pre, ld: h, bias: p[head.first.bias], rows: b, cols: h, activation: .identity)
        activationForward(out: hidden, inp: pre, count: b * h, activation: head.activation)
        if let mask = drawMask(cache.headHiddenMask, count: b * h, p: options.dropout.classifier, pass: pass, site: DropoutSite.headHidden) {
            dropoutForward(out: hidden, inp: hidden, mask: mask, count: b * h)
        }
        let c = head.output.outFeatures
        linearForward(out: cache.logits.pointer, ldo: c, inp: hidden, ldi: h, weight: p[head.output.weight], rows: b, inF: h, outF: c, pool: pool)
        biasActivationForward(cache.logits.pointer, ld: c, bias: p[head.output.bias], rows: b, cols: c, activation: .identity)
    }

    /// Backward from gradLogits to the head's weights and, when the encoder trains, to the last
    /// layer's output in gradResidual (zero except at each sequence's first token).
    func headBackward(_ batch: TokenBatch) {
        let (b, h, p, g) = (batch.count, model.config.hiddenSize, model.parameters, gradients)
        let head = model.tree.head!
        let c = head.output.outFeatures
        let dHidden = cache.gradHeadHidden.pointer, dInput = cache.gradHeadInput.pointer
        linearBackward(dInp: dHidden, ldx: h, accumulateInput: false,
                       dWeight: plan.headOutput ? g[head.output.weight] : nil, dBias: plan.headOutput ? g[head.output.bias] : nil,
                       dOut: cache.gradLogits.pointer, ldd: c, inp: cache.headHidden.pointer, ldi: h, weight: p[head.output.weight],
                       rows: b, inF: h, outF: c, pool: pool)
        if options.dropout.classifier > 0 {
            dropoutBackward(dInp: dHidden, dOut: dHidden, mask: cache.headHiddenMask.pointer, count: b * h)
        }
        activationBackward(dInp: dHidden, dOut: dHidden, inp: cache.headPre.pointer, count: b * h, activation: head.activation)
        let encoderNeedsGradient = plan.lowestBackwardLayer != nil
        linearBackward(dInp: encoderNeedsGradient ? dInput : nil, ldx: h, accumulateInput: false,
                       dWeight: plan.headFirst ? g[head.first.weight] : nil, dBias: plan.headFirst ? g[head.first.bias] : nil,
                       dOut: dHidden, ldd: h, inp: cache.headInput.pointer, ldi: h, weight: p[head.first.weight],
                       rows: b, inF: h, outF: h, pool: pool)
        guard encoderNeedsGradient else { return }
        if head.inputDropout, options.dropout.classifier > 0 {
            dropoutBackward(dInp: dInput, dOut: dInput, mask: cache.headInputMask.pointer, count: b * h)
        }
        let dLast = cache.gradResidual.pointer
        dLast.update(repeating: 0, count: batch.tokenCount * h)
        for s in 0..<b { (dLast + batch.sequenceStarts[s] * h).update(from: dInput + s * h, count: h) }
    }
}
