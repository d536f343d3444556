import BertCore

/// A growable, 64-byte aligned Float32 buffer; contents are not kept when it grows.
final class FloatBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity = 0

    init() { pointer = Self.allocate(16) }
    deinit { pointer.deallocate() }

    func reserve(_ n: Int) {
        guard n > capacity else { return }
        pointer.deallocate()
        pointer = Self.allocate(n)
        capacity = n
    }

    private static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(n, 16) * 4, alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: max(n, 16))
        p.initialize(repeating: 0, count: max(n, 16))
        return p
    }
}

/// What one encoder layer's backward needs from its forward (T tokens, hidden H, intermediate I).
/// The layer's input is the previous layer's `output` (or the embeddings' output).
final class LayerActivations {
    let qkv = FloatBuffer()            // (T, 3H) query, key, value with bias (and LoRA)
    let probabilities = FloatBuffer()  // Σ_s heads·L_s² attention probabilities
    let probabilityMask = FloatBuffer()  // same layout; attention dropout only
    let context = FloatBuffer()        // (T, H) attention output before its projection
    let attentionMask = FloatBuffer()  // (T, H) dropout on the attention projection
    let norm1Input = FloatBuffer()     // (T, H) x + dropout(attention projection)
    let norm1Mean = FloatBuffer(), norm1Rstd = FloatBuffer()  // (T)
    let norm1Output = FloatBuffer()    // (T, H)
    let ffnPre = FloatBuffer()         // (T, I) before the activation
    let ffnAct = FloatBuffer()         // (T, I) after it
    let ffnMask = FloatBuffer()        // (T, H) dropout on the feed-forward output
    let norm2Input = FloatBuffer()     // (T, H)
    let norm2Mean = FloatBuffer(), norm2Rstd = FloatBuffer()
    let output = FloatBuffer()         // (T, H) the layer's output, the next layer's input
    /// Per LoRA adapter (config order): u = x̃Aᵀ (T, r); with LoRA dropout x̃ and its mask (T, in).
    var loraU: [FloatBuffer] = [], loraInput: [FloatBuffer] = [], loraMask: [FloatBuffer] = []

    func reserve(tokens t: Int, hidden h: Int, intermediate i: Int, probabilities p: Int,
                 dropout: DropoutRates, attentionOutputDropout: Bool, lora: [LoRAAdapter], loraDropout: Bool) {
        qkv.reserve(t * 3 * h); context.reserve(t * h); norm1Input.reserve(t * h); norm1Output.reserve(t * h)
        norm1Mean.reserve(t); norm1Rstd.reserve(t); norm2Mean.reserve(t); norm2Rstd.reserve(t)
        ffnPre.reserve(t * i); ffnAct.reserve(t * i); norm2Input.reserve(t * h); output.reserve(t * h)
        probabilities.reserve(p)
        if dropout.attention > 0 { probabilityMask.reserve(p) }
        if dropout.hidden > 0 {
            if attentionOutputDropout { attentionMask.reserve(t * h) }
            ffnMask.reserve(t * h)
        }
        while loraU.count < lora.count { loraU.append(FloatBuffer()); loraInput.append(FloatBuffer()); loraMask.append(FloatBuffer()) }
        for (n, adapter) in lora.enumerated() {
            loraU[n].reserve(t * adapter.rank)
            if loraDropout { loraInput[n].reserve(t * adapter.inFeatures); loraMask[n].reserve(t * adapter.inFeatures) }
        }
    }
}

/// Every activation a training forward keeps for its backward, plus the backward's scratch.
/// Buffers grow to the largest batch seen and are reused, so steady-state training allocates
/// nothing per step. Not thread-safe: one per Trainer.
final class ActivationCache {
    var positions: [Int32] = []
    /// attentionProbabilityOffsets of the current batch.
    var probabilityOffsets: [Int] = [0]
    let embeddingSum = FloatBuffer()   // (T, E) word + type + position, before LayerNorm
    let embeddingMean = FloatBuffer(), embeddingRstd = FloatBuffer()
    let embeddingNormed = FloatBuffer()  // (T, E) after LayerNorm and dropout, before ELECTRA's projection
    let embeddingOutput = FloatBuffer()  // (T, H) after LayerNorm and dropout (and projection): layer 0's input
    let embeddingMask = FloatBuffer()    // (T, E)
    var layers: [LayerActivations] = []

    // Head, B rows.
    let headInput = FloatBuffer()      // (B, H) first token of each sequence (after dropout for RoBERTa)
    let headInputMask = FloatBuffer()
    let headPre = FloatBuffer()        // (B, H) first dense before its activation
    let headHidden = FloatBuffer()     // (B, H) after activation and dropout: the last dense's input
    let headHiddenMask = FloatBuffer()
    let logits = FloatBuffer()         // (B, C)
    let probs = FloatBuffer()          // (B, C)

    // Backward scratch.
    let projection = FloatBuffer()     // (T, H) a dense output before bias/residual (forward scratch)
    let gradResidual = FloatBuffer()   // (T, H) gradient of the residual stream
    let gradScratch = FloatBuffer()    // (T, max(H, E)) gradient of a LayerNorm input
    let gradEmbedding = FloatBuffer()  // (T, E) gradient of the projection's input (ELECTRA)
    let gradMasked = FloatBuffer()     // (T, H) a gradient after a dropout mask
    let gradQKV = FloatBuffer()        // (T, 3H)
    let gradContext = FloatBuffer()    // (T, H)
    let gradFfn = FloatBuffer()        // (T, I)
    let gradLogits = FloatBuffer()     // (B, C)
    let gradHeadHidden = FloatBuffer() // (B, H)
    let gradHeadInput = FloatBuffer()  // (B, H)
    let gradLoRAU = FloatBuffer()      // (T, r)
    let gradLoRAInput = FloatBuffer()  // (T, max in)
    let attentionScratch = FloatBuffer()
    private(set) var attentionScratchPerThread = 0

    // Explanations of an encoder without a head (zero-shot): per sequence the mean-pooled,
    // normalised embedding u (B, H), the norm of the mean before normalising, and the label
    // vectors whose cosine with u is the output.
    var pooledUnit: [Float] = []
    var pooledNorm: [Float] = []
    var similarity: [[Float]] = []

    func reserve(tokens t: Int, sequences b: Int, longest: Int, probabilities p: Int, config c: ModelConfig, classes: Int,
                 options: TrainingOptions, lora: LoRAAdapters?, threads: Int) {
        let (h, i, e) = (c.hiddenSize, c.intermediateSize, c.embeddingSize)
        if positions.count < t { positions = [Int32](repeating: 0, count: t) }
        for buffer in [embeddingOutput, projection, gradResidual, gradMasked, gradContext] {
            buffer.reserve(t * h)
        }
        embeddingSum.reserve(t * e); gradScratch.reserve(t * max(h, e))
        if c.projectsEmbeddings { embeddingNormed.reserve(t * e); gradEmbedding.reserve(t * e) }
        embeddingMean.reserve(t); embeddingRstd.reserve(t)
        if options.dropout.hidden > 0 { embeddingMask.reserve(t * e) }
        gradQKV.reserve(t * 3 * h); gradFfn.reserve(t * i)
        while layers.count < c.numLayers { layers.append(LayerActivations()) }
        for (l, layer) in layers.enumerated() {
            layer.reserve(tokens: t, hidden: h, intermediate: i, probabilities: p, dropout: options.dropout,
                          attentionOutputDropout: c.family.attentionOutputDropout, lora: lora?.adapters[l] ?? [],
                          loraDropout: (lora?.config.dropout ?? 0) > 0)
        }
        for buffer in [headInput, headInputMask, headPre, headHidden, headHiddenMask, gradHeadHidden, gradHeadInput] {
            buffer.reserve(b * h)
        }
        logits.reserve(b * classes); probs.reserve(b * classes); gradLogits.reserve(b * classes)
        if let lora {
            gradLoRAU.reserve(t * lora.config.rank)
            gradLoRAInput.reserve(t * max(h, i))
        }
        attentionScratchPerThread = attentionTrainingScratchSize(longest: longest)
        attentionScratch.reserve(attentionScratchPerThread * threads)
    }
}
