/// An encoder of one of the `ModelFamily.all` families with its optional sequence-classification head:
/// configuration, module tree and the parameter arena. Immutable after loading, so one model
/// serves many threads, each with its own `Workspace`.
public final class TransformerModel: @unchecked Sendable {
    public let config: ModelConfig
    public let tree: ModuleTree
    public let parameters: ParameterArena
    /// Label names in id order; "LABEL_i" when the config names none.
    public let labels: [String]
    /// The encoder's arithmetic. In int8 the fp32 weights stay in `parameters` (the head,
    /// LayerNorms and biases use them; training and explanations run on them), unless the
    /// model was loaded for int8 serving (`fp32WeightsReleased`).
    public let precision: Precision
    /// Bytes of fp32 weights (the encoder's dense weights, the word embeddings) whose pages were
    /// given back after quantizing (ModelLoader's int8 load): 0 when `parameters` holds them all.
    public let releasedWeightBytes: Int
    /// Whether the arena's fp32 copies of the int8 weights are gone (int8 serving): the int8
    /// forward pass does not read them; an fp32 pass, training or an explanation needs the
    /// model loaded in fp32.
    public var fp32WeightsReleased: Bool { releasedWeightBytes > 0 }
    /// Each encoder layer's int8 dense weights; empty in fp32.
    let quantizedLayers: [QuantizedEncoderLayer]
    /// The int8 word-embedding table; nil in fp32.
    let quantizedWordEmbeddings: QuantizedEmbeddingTable?

    public var family: ModelFamily { config.family }
    /// A `*ForSequenceClassification` head on [CLS] (what fine-tuning trains).
    public var hasClassificationHead: Bool { tree.head != nil }
    /// A classifier on the sentence embedding (a few-shot model), when the directory has one.
    public let embeddingHead: EmbeddingHead?
    /// Whether `classify` gives logits: a head on [CLS] or on the sentence embedding.
    public var canClassify: Bool { tree.head != nil || embeddingHead != nil }
    public var numLabels: Int { labels.count }
    public var parameterCount: Int { tree.layout.specs.reduce(0) { $0 + $1.ref.count } }

    init(config: ModelConfig, tree: ModuleTree, parameters: ParameterArena, precision: Precision = .fp32,
         embeddingHead: EmbeddingHead? = nil, quantized: ([QuantizedEncoderLayer], QuantizedEmbeddingTable?)? = nil,
         releasedWeightBytes: Int = 0) {
        self.config = config
        self.tree = tree
        self.parameters = parameters
        self.precision = precision
        self.embeddingHead = embeddingHead
        self.releasedWeightBytes = releasedWeightBytes
        if let quantized {
            (quantizedLayers, quantizedWordEmbeddings) = quantized
        } else if precision == .int8 {
            quantizedLayers = tree.layers.map { QuantizedEncoderLayer($0, parameters: parameters) }
            let word = tree.embeddings.word
            quantizedWordEmbeddings = QuantizedEmbeddingTable(table: parameters[word], rows: config.vocabSize,
                                                              width: tree.embeddings.width)
        } else {
            (quantizedLayers, quantizedWordEmbeddings) = ([], nil)
        }
        if let embeddingHead {
            labels = config.labels.count == embeddingHead.classes ? config.labels : (0..<embeddingHead.classes).map { "LABEL_\($0)" }
        } else if let head = tree.head {
            let n = head.output.outFeatures
            labels = config.labels.count == n ? config.labels : (0..<n).map { "LABEL_\($0)" }
        } else {
            labels = []
        }
    }

    /// This encoder (the same parameters, not a copy) classifying with `head` on its sentence
    /// embedding, the classes named `labels`; a head on [CLS], if any, is dropped.
    public func withEmbeddingHead(_ head: EmbeddingHead, labels: [String]) throws -> TransformerModel {
        guard head.hidden == config.hiddenSize, head.classes == labels.count else {
            throw BertError(.weightMismatch, "a head of \(head.classes) × \(head.hidden) for \(labels.count) labels and hidden size \(config.hiddenSize)")
        }
        var c = config
        c.labels = labels
        c.problemType = "single_label_classification"
        c.declaresEmbeddingHead = true
        c.architectures = [family.baseArchitecture]
        return TransformerModel(config: c, tree: tree, parameters: parameters, precision: precision, embeddingHead: head,
                                quantized: (quantizedLayers, quantizedWordEmbeddings), releasedWeightBytes: releasedWeightBytes)
    }

    /// The same model computing in `precision`: the fp32 weights are shared, not copied; int8
    /// quantizes and packs the encoder's dense layers and the word embeddings (about 0.3 s for
    /// MiniLM on one core). Not for a model loaded for int8 serving (its fp32 copies are gone).
    public func converted(to precision: Precision) -> TransformerModel {
        if precision == self.precision { return self }
        precondition(!fp32WeightsReleased, "this int8 model was loaded without its fp32 weights: load the directory in fp32")
        return TransformerModel(config: config, tree: tree, parameters: parameters, precision: precision, embeddingHead: embeddingHead)
    }

    /// This int8 model without the arena's fp32 copies of the weights it holds in int8 (the
    /// encoder's dense weights, the word embeddings): their pages go back to the kernel, so serving
    /// keeps about a quarter of those bytes. Only for a model that alone owns its arena
    /// (ModelLoader's int8 load): the released weights read as zeros afterwards.
    func releasingFP32Weights() -> TransformerModel {
        precondition(precision == .int8, "only an int8 model can drop fp32 weights")
        let dense = tree.layers.flatMap { [$0.qkv.weight, $0.attentionOutput.weight, $0.intermediate.weight, $0.output.weight] }
        let released = parameters.releasePages(of: dense + [tree.embeddings.word])
        return TransformerModel(config: config, tree: tree, parameters: parameters, precision: precision, embeddingHead: embeddingHead,
                                quantized: (quantizedLayers, quantizedWordEmbeddings), releasedWeightBytes: releasedWeightBytes + released)
    }

    /// Bytes of the weights this model keeps resident: the fp32 arena (less the released pages),
    /// plus the int8 copies.
    public var residentWeightBytes: Int {
        parameters.count * MemoryLayout<Float>.size - releasedWeightBytes + encoderDenseWeightBytes(in: quantizedLayers)
            + (quantizedWordEmbeddings?.residentBytes ?? 0)
    }

    /// Bytes of the encoder's dense weights (4 per layer) in this precision: fp32 in the arena, or
    /// their int8 copies (packed weights, column sums, scales).
    public var encoderDenseWeightBytes: Int {
        if precision == .int8 { return encoderDenseWeightBytes(in: quantizedLayers) }
        return tree.layers.reduce(0) { sum, layer in
            sum + [layer.qkv, layer.attentionOutput, layer.intermediate, layer.output].reduce(0) { $0 + $1.weight.count * 4 }
        }
    }

    private func encoderDenseWeightBytes(in layers: [QuantizedEncoderLayer]) -> Int {
        layers.reduce(0) { $0 + $1.linears.reduce(0) { $0 + $1.residentBytes } }
    }

    public func makeWorkspace() -> Workspace {
        Workspace(hidden: config.hiddenSize, intermediate: config.intermediateSize, embedding: config.embeddingSize,
                  numLabels: max(numLabels, 1))
    }

    /// Checks that every id fits the embedding tables and every sequence fits the positions.
    public func validate(_ batch: TokenBatch) throws {
        for s in 0..<batch.count {
            let n = batch.length(of: s)
            guard n > 0 else { throw BertError(.invalidInput, "sequence \(s) is empty") }
            guard n <= config.maxSequenceLength else {
                throw BertError(.invalidInput, "sequence \(s) has \(n) tokens; the model takes at most \(config.maxSequenceLength)")
            }
        }
        let vocab = Int32(config.vocabSize)
        if let bad = batch.ids.first(where: { $0 < 0 || $0 >= vocab }) {
            throw BertError(.invalidInput, "token id \(bad) is outside the vocabulary (0..<\(vocab))")
        }
        if tree.embeddings.tokenType != nil {
            let types = Int32(config.typeVocabSize)
            if let bad = batch.typeIds.first(where: { $0 < 0 || $0 >= types }) {
                throw BertError(.invalidInput, "token type id \(bad) is outside 0..<\(types)")
            }
        }
    }

    // MARK: forward

    /// Runs the encoder. With `.allTokens`, afterwards workspace.hiddenStates holds
    /// last_hidden_state (T, H). With `.firstTokens`, workspace.pooled holds each sequence's
    /// first row of it (B, H), and hiddenStates the last layer's input.
    public func encode(_ batch: TokenBatch, workspace ws: Workspace, output: EncoderOutput = .allTokens) throws {
        try validate(batch)
        let pool = ComputeThreads.pool
        let (t, h, p) = (batch.tokenCount, config.hiddenSize, parameters)
        ws.reserve(tokens: t, sequences: batch.count, longest: batch.longestSequence,
                   attentionScratch: attentionScratchSize(longest: batch.longestSequence, headSize: config.headSize) * pool.threadCount)
        let firstTokensOnly = output == .firstTokens && canComputeFirstTokensOnly
        if precision == .int8 {
            ws.reserveQuantizedRows(tokens: t, width: max(config.hiddenSize, config.intermediateSize) + 3)
        }

        // Position ids restart at each sequence (padding-free: no position is skipped).
        for s in 0..<batch.count {
            for (i, tok) in (batch.sequenceStarts[s]..<batch.sequenceStarts[s + 1]).enumerated() {
                ws.positions.array[tok] = Int32(tree.embeddings.firstPosition + i)
            }
        }
        let emb = tree.embeddings
        let e = emb.width
        // With ELECTRA's projection the tables' width E differs from H: embed into a (T, E)
        // scratch, then project it into the residual stream.
        let out = emb.projection == nil ? ws.hiddenStates.pointer : ws.embeddingScratch.pointer
        batch.ids.withUnsafeBufferPointer { ids in
            batch.typeIds.withUnsafeBufferPointer { types in
                ws.positions.array.withUnsafeBufferPointer { pos in
                    pool.parallelFor(t) { r in
                        if let word = quantizedWordEmbeddings {
                            quantizedEmbeddingForward(out: out + r.lowerBound * e, ids: ids.baseAddress! + r.lowerBound,
                                                      positions: pos.baseAddress! + r.lowerBound,
                                                      typeIds: emb.tokenType == nil ? nil : types.baseAddress! + r.lowerBound,
                                                      word: word, position: p[emb.position],
                                                      tokenType: emb.tokenType.map { p[$0] }, tokens: r.count)
                        } else {
                            embeddingForward(out: out + r.lowerBound * e, ids: ids.baseAddress! + r.lowerBound,
                                             positions: pos.baseAddress! + r.lowerBound,
                                             typeIds: emb.tokenType == nil ? nil : types.baseAddress! + r.lowerBound,
                                             word: p[emb.word], position: p[emb.position],
                                             tokenType: emb.tokenType.map { p[$0] }, tokens: r.count, hidden: e)
                        }
                        residualLayerNormForward(hidden: out + r.lowerBound * e, delta: nil, deltaBias: nil,
                                                 weight: p[emb.layerNorm.weight], bias: p[emb.layerNorm.bias],
                                                 rows: r.count, dim: e, eps: emb.layerNorm.eps)
                    }
                }
            }
        }
        if let projection = emb.projection {
            // hidden (T, H) = embedded (T, E) · Wpᵀ + bp
            linearForward(out: ws.hiddenStates.pointer, ldo: h, inp: out, ldi: e, weight: p[projection.weight],
                          rows: t, inF: e, outF: h, pool: pool, epilogue: LinearEpilogue(bias: p[projection.bias]))
        }
        for (n, layer) in tree.layers.enumerated() {
            layerForward(layer, quantized: quantizedLayers.isEmpty ? nil : quantizedLayers[n], batch: batch, workspace: ws,
                         pool: pool, firstTokensOnly: firstTokensOnly && n == tree.layers.count - 1)
        }
        if output == .firstTokens && !firstTokensOnly { gatherFirstTokens(batch, workspace: ws) }
    }

    /// Whether the last layer can run for the first tokens alone: it needs a layer, and in int8 a
    /// hidden size on the packed weights' blocks of 16 (the query and key/value columns are
    /// computed apart).
    private var canComputeFirstTokensOnly: Bool {
        !tree.layers.isEmpty && (precision == .fp32 || config.hiddenSize % 16 == 0)
    }

    /// One transformer block over all T tokens of the batch; dense layers are one GEMM each, in
    /// int8 when `quantized` holds the layer's int8 weights. Either way bias and activation run in
    /// the GEMM's epilogue and residual + LayerNorm inside the dense layer's pass, in fp32.
    /// With `firstTokensOnly` (the last layer, when only a head on [CLS] reads the output) every
    /// token still gives its key and value, but queries, attention output and feed-forward run for
    /// each sequence's first token alone, gathered into workspace.pooled: the rows nothing reads
    /// are not computed (MiniLM: 5/6 of the last layer's multiply-adds on long sequences).
    private func layerForward(_ layer: EncoderLayer, quantized: QuantizedEncoderLayer?, batch: TokenBatch,
                              workspace ws: Workspace, pool: ComputePool, firstTokensOnly: Bool) {
        let (t, h, p) = (batch.tokenCount, config.hiddenSize, parameters)
        let x = ws.hiddenStates.pointer
        let qkv = ws.qkv.pointer, context = ws.context.pointer
        let qkvBias = LinearEpilogue(bias: p[layer.qkv.bias])
        if !firstTokensOnly {
            // qkv (T, 3H) = x (T, H) · Wqkvᵀ + b
            linear(layer.qkv, quantized?.qkv, rows: t, out: qkv, ldo: 3 * h, inp: x, ldi: h, epilogue: qkvBias, ws, pool)
            attentionForward(context: context, qkv: qkv, scratch: ws.attentionScratch.pointer,
                             scratchPerThread: ws.attentionScratch.count / pool.threadCount,
                             sequenceStarts: batch.sequenceStarts, hidden: h, numHeads: config.numHeads, pool: pool)
            outputBlocksForward(layer, quantized: quantized, x: x, context: context, rows: t, workspace: ws, pool: pool)
            return
        }
        let b = batch.count
        gatherFirstTokens(batch, workspace: ws)
        let first = ws.pooled.pointer, queries = ws.firstQueries.pointer
        // keys, values: qkv[:, H..<3H] (T, 2H) = x (T, H) · Wkvᵀ + b
        linear(layer.qkv, quantized?.qkv, rows: t, columns: h..<(3 * h), out: qkv, ldo: 3 * h, inp: x, ldi: h,
               epilogue: qkvBias, ws, pool)
        // queries (B, H) = first (B, H) · Wqᵀ + bq
        linear(layer.qkv, quantized?.qkv, rows: b, columns: 0..<h, out: queries, ldo: h, inp: first, ldi: h,
               epilogue: qkvBias, ws, pool)
        firstTokenAttentionForward(context: context, queries: queries, qkv: qkv, scratch: ws.attentionScratch.pointer,
                                   scratchPerThread: ws.attentionScratch.count / pool.threadCount,
                                   sequenceStarts: batch.sequenceStarts, hidden: h, numHeads: config.numHeads, pool: pool)
        outputBlocksForward(layer, quantized: quantized, x: first, context: context, rows: b, workspace: ws, pool: pool)
    }

    /// The block after attention, over `rows` rows of x (stride H) and context:
    /// x = LN(x + context · Woᵀ + bo); x = LN(x + act(x · Wiᵀ + bi) · Wo2ᵀ + bo2). Each LayerNorm
    /// runs inside its dense layer's pass (`ResidualLayerNorm`).
    private func outputBlocksForward(_ layer: EncoderLayer, quantized: QuantizedEncoderLayer?, x: UnsafeMutablePointer<Float>,
                                     context: UnsafePointer<Float>, rows: Int, workspace ws: Workspace, pool: ComputePool) {
        let (h, i, p) = (config.hiddenSize, config.intermediateSize, parameters)
        let projection = ws.projection.pointer, ffn = ws.ffn.pointer
        // x = LN(x + context · Woᵀ + bo)
        linear(layer.attentionOutput, quantized?.attentionOutput, rows: rows, out: projection, ldo: h, inp: context, ldi: h,
               norm: ResidualLayerNorm(hidden: x, bias: p[layer.attentionOutput.bias], weight: p[layer.attentionNorm.weight],
                                       normBias: p[layer.attentionNorm.bias], eps: layer.attentionNorm.eps), ws, pool)
        // ffn (rows, I) = act(x · Wiᵀ + bi)
        linear(layer.intermediate, quantized?.intermediate, rows: rows, out: ffn, ldo: i, inp: x, ldi: h,
               epilogue: LinearEpilogue(bias: p[layer.intermediate.bias], activation: config.activation.kernel), ws, pool)
        // x = LN(x + ffn · Wo2ᵀ + bo2)
        linear(layer.output, quantized?.output, rows: rows, out: projection, ldo: h, inp: ffn, ldi: i,
               norm: ResidualLayerNorm(hidden: x, bias: p[layer.output.bias], weight: p[layer.outputNorm.weight],
                                       normBias: p[layer.outputNorm.bias], eps: layer.outputNorm.eps), ws, pool)
    }

    /// out[:, columns] (rows, |columns|) = inp (rows, inF) · W[columns]ᵀ [then the epilogue or the
    /// residual LayerNorm], in fp32 or, when `int8` holds the layer's int8 weights, in int8.
    /// columns defaults to all outF.
    private func linear(_ linear: Linear, _ int8: QuantizedLinear?, rows: Int, columns: Range<Int>? = nil,
                        out: UnsafeMutablePointer<Float>, ldo: Int, inp: UnsafePointer<Float>, ldi: Int,
                        epilogue: LinearEpilogue? = nil, norm: ResidualLayerNorm? = nil, _ ws: Workspace, _ pool: ComputePool) {
        if let int8 {
            quantizedLinearForward(out: out, ldo: ldo, inp: inp, ldi: ldi, weight: int8, rows: rows,
                                   scratch: ws.quantizedRows.pointer, rowScales: ws.rowScales.pointer, pool: pool,
                                   epilogue: epilogue, norm: norm, columns: columns)
            return
        }
        // W[columns] is a block of W's rows; the epilogue's bias is indexed from the block's start.
        let c = columns ?? 0..<linear.outFeatures
        linearForward(out: out + c.lowerBound, ldo: ldo, inp: inp, ldi: ldi,
                      weight: parameters[linear.weight] + c.lowerBound * linear.inFeatures, rows: rows,
                      inF: linear.inFeatures, outF: c.count, pool: pool,
                      epilogue: epilogue.map { LinearEpilogue(bias: $0.bias + c.lowerBound, activation: $0.activation) }, norm: norm)
    }

    /// pooled (B, H) = the first token of each sequence ([CLS] / <s>).
    private func gatherFirstTokens(_ batch: TokenBatch, workspace ws: Workspace) {
        let h = config.hiddenSize
        for s in 0..<batch.count {
            (ws.pooled.pointer + s * h).update(from: ws.hiddenStates.pointer + batch.sequenceStarts[s] * h, count: h)
        }
    }

    /// out (B, outF) = act(inp (B, inF) · Wᵀ + b)
    private func dense(_ linear: Linear, inp: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows: Int, activation: Activation) {
        matmulForward(out: out, ldo: linear.outFeatures, inp: inp, ldi: linear.inFeatures,
                      weight: parameters[linear.weight], rows: rows, inF: linear.inFeatures, outF: linear.outFeatures)
        biasActivationForward(out, ld: linear.outFeatures, bias: parameters[linear.bias], rows: rows,
                              cols: linear.outFeatures, activation: activation)
    }

    /// BERT's pooler_output (B, H): tanh(dense([CLS])). Call after `encode`.
    public func poolerOutput(_ batch: TokenBatch, workspace ws: Workspace) throws -> [[Float]] {
        guard let pooler = tree.pooler else { throw BertError(.unsupportedModel, "this model has no pooler") }
        gatherFirstTokens(batch, workspace: ws)
        dense(pooler, inp: ws.pooled.pointer, out: ws.headHidden.pointer, rows: batch.count, activation: .tanh)
        return rows(ws.headHidden.pointer, count: batch.count, width: config.hiddenSize)
    }

    /// Encodes the batch and applies the classification head: logits (B, labels).
    public func classify(_ batch: TokenBatch, workspace ws: Workspace) throws -> [[Float]] {
        if let embeddingHead { return try embed(batch, workspace: ws).map(embeddingHead.logits) }
        guard let head = tree.head else {
            throw BertError(.unsupportedModel, "this model has no classification head (it is an encoder: use embed)")
        }
        try encode(batch, workspace: ws, output: .firstTokens)
        let b = batch.count
        // HF's head: first token → dense → activation → output (dropout is off at inference).
        dense(head.first, inp: ws.pooled.pointer, out: ws.headHidden.pointer, rows: b, activation: head.activation)
        dense(head.output, inp: ws.headHidden.pointer, out: ws.logits.pointer, rows: b, activation: .identity)
        return rows(ws.logits.pointer, count: b, width: numLabels)
    }

    /// Encodes the batch and returns sentence embeddings (B, H): the mean of each sequence's token
    /// states, L2-normalised — what sentence-transformers computes for all-MiniLM-L6-v2.
    public func embed(_ batch: TokenBatch, workspace ws: Workspace) throws -> [[Float]] {
        try encode(batch, workspace: ws)
        let h = config.hiddenSize
        for s in 0..<batch.count {
            meanPoolNormalizeForward(out: ws.embeddings.pointer + s * h,
                                     hidden: ws.hiddenStates.pointer + batch.sequenceStarts[s] * h,
                                     tokens: batch.length(of: s), dim: h)
        }
        return rows(ws.embeddings.pointer, count: batch.count, width: h)
    }

    /// last_hidden_state of sequence s (L, H) after `encode`.
    public func hiddenStates(of s: Int, in batch: TokenBatch, workspace ws: Workspace) -> [Float] {
        let h = config.hiddenSize
        return Array(UnsafeBufferPointer(start: ws.hiddenStates.pointer + batch.sequenceStarts[s] * h, count: batch.length(of: s) * h))
    }

    private func rows(_ p: UnsafePointer<Float>, count: Int, width: Int) -> [[Float]] {
        (0..<count).map { Array(UnsafeBufferPointer(start: p + $0 * width, count: width)) }
    }
}

/// What a caller of `TransformerModel.encode` reads: every token's last hidden state, or only
/// each sequence's first token's (what a head on [CLS] reads; the last layer then skips the rest).
public enum EncoderOutput: Sendable {
    case allTokens
    case firstTokens
}

extension HiddenActivation {
    /// The kernel that computes this activation.
    public var kernel: Activation {
        switch self {
        case .gelu: return .gelu
        case .geluNew: return .geluTanh
        case .relu: return .relu
        }
    }
}
