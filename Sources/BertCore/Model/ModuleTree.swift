// The model's module tree, registered with Hugging Face's names so every weight's name is its
// path (candle's bert.rs style). What differs between families — the prefix, the layer's module
// names, the embedding layout, the pooler and the head — comes from `ModelFamily`; every family
// computes through the same `Embeddings`, `EncoderLayer` and `ClassificationHead`.

/// BertEmbeddings (modeling_bert.py) and its relatives: word + position (+ token type), LayerNorm;
/// ELECTRA's tables are `embedding_size` wide and projected to the hidden size.
public struct Embeddings: Sendable {
    public let word: ParameterRef          // (V, E)
    public let position: ParameterRef      // (P, E)
    public let tokenType: ParameterRef?    // (types, E); nil where the family has none
    public let layerNorm: LayerNormWeights // (E)
    /// ElectraModel.embeddings_project (H, E), when E ≠ H.
    public let projection: Linear?
    /// The position id of a sequence's first token: 0, or padding_idx + 1 for RoBERTa.
    public let firstPosition: Int
    /// E, the width of the tables.
    public var width: Int { word.shape[1] }

    static func register(_ b: inout ParameterBuilder, config c: ModelConfig) -> Embeddings {
        let layout = c.family.embeddings
        let e = c.embeddingSize
        let (word, position, tokenType, norm) = b.scope("embeddings") { b in
            (b.tensor("word_embeddings.weight", shape: [c.vocabSize, e], decays: true),
             b.tensor("position_embeddings.weight", shape: [c.maxPositionEmbeddings, e], decays: true),
             layout.tokenTypes ? b.tensor("token_type_embeddings.weight", shape: [c.typeVocabSize, e], decays: true) : nil,
             b.layerNorm("LayerNorm", dim: e, eps: c.layerNormEps))
        }
        // modeling_electra.py ElectraModel: `if config.embedding_size != config.hidden_size`.
        let projection = c.projectsEmbeddings ? b.linear("embeddings_project", out: c.hiddenSize, in: e) : nil
        return Embeddings(word: word, position: position, tokenType: tokenType, layerNorm: norm, projection: projection,
                          firstPosition: layout.positionsAfterPadding ? c.padTokenId + 1 : 0)
    }
}

/// One post-LayerNorm transformer block: attention, residual + LN, feed-forward, residual + LN
/// (BertLayer; DistilBERT's TransformerBlock is the same computation under other names).
public struct EncoderLayer: Sendable {
    public let qkv: Linear               // query, key, value fused: (3H, H)
    public let attentionOutput: Linear   // (H, H)
    public let attentionNorm: LayerNormWeights
    public let intermediate: Linear      // (I, H)
    public let output: Linear            // (H, I)
    public let outputNorm: LayerNormWeights

    static func register(_ b: inout ParameterBuilder, names m: LayerModules, config c: ModelConfig) -> EncoderLayer {
        let (h, i, eps) = (c.hiddenSize, c.intermediateSize, c.layerNormEps)
        return EncoderLayer(qkv: b.fusedLinear([m.query, m.key, m.value], out: h, in: h),
                            attentionOutput: b.linear(m.attentionOutput, out: h, in: h),
                            attentionNorm: b.layerNorm(m.attentionNorm, dim: h, eps: eps),
                            intermediate: b.linear(m.intermediate, out: i, in: h),
                            output: b.linear(m.output, out: h, in: i),
                            outputNorm: b.layerNorm(m.outputNorm, dim: h, eps: eps))
    }
}

/// The sequence-classification head of `*ForSequenceClassification`, as the family's
/// `HeadShape` describes it: first token → [dropout] → first dense → activation → dropout → output.
public struct ClassificationHead: Sendable {
    /// The first dense layer (H, H): BERT's pooler, or a head module.
    public let first: Linear
    public let activation: Activation
    public let inputDropout: Bool
    /// The output projection (labels, H).
    public let output: Linear
    /// Whether `first` is BertPooler's dense layer (part of the base model).
    public let firstIsPooler: Bool

    /// Registers the head modules; `pooler` is the base model's pooler when the shape reads it.
    static func register(_ b: inout ParameterBuilder, shape: HeadShape, pooler: Linear?, hidden h: Int, numLabels: Int) -> ClassificationHead? {
        let first: Linear
        switch shape.first {
        case .pooler:
            guard let pooler else { return nil }
            first = pooler
        case .module(let name):
            first = b.linear(name, out: h, in: h)
        }
        return ClassificationHead(first: first, activation: shape.activation, inputDropout: shape.inputDropout,
                                  output: b.linear(shape.output, out: numLabels, in: h), firstIsPooler: shape.first == .pooler)
    }
}

/// Every parameter of one model, as views into its arena.
public struct ModuleTree: Sendable {
    public let embeddings: Embeddings
    public let layers: [EncoderLayer]
    /// BertPooler: dense + tanh on [CLS], where the family has one (optional in a bare checkpoint).
    public let pooler: Linear?
    public let head: ClassificationHead?
    public let layout: ParameterLayout

    /// Registers the tree of `config` under the names of `*ForSequenceClassification`
    /// (`bert.embeddings…`, `classifier…`); a head is registered when numLabels > 0 (a head that
    /// reads the pooler needs `pooler`).
    public init(config c: ModelConfig, numLabels: Int, pooler withPooler: Bool) {
        let family = c.family
        var b = ParameterBuilder()
        (embeddings, layers, pooler) = b.scope(family.weightPrefix) { b in
            let emb = Embeddings.register(&b, config: c)
            let layers = (0..<c.numLayers).map { n in
                b.scope("\(family.layerScope).\(n)") { EncoderLayer.register(&$0, names: family.layerModules, config: c) }
            }
            let pooler = (family.hasPooler && withPooler)
                ? b.scope("pooler") { $0.linear("dense", out: c.hiddenSize, in: c.hiddenSize) } : nil
            return (emb, layers, pooler)
        }
        head = numLabels > 0
            ? ClassificationHead.register(&b, shape: family.head, pooler: pooler, hidden: c.hiddenSize, numLabels: numLabels) : nil
        layout = b.layout
    }
}
