// The model's module tree, registered with Hugging Face's names so every weight's name is its
// path (candle's bert.rs style). BERT and RoBERTa share BertEmbeddings/BertLayer
// (modeling_bert.py, modeling_roberta.py); DistilBERT has its own names for the same post-LN
// block (modeling_distilbert.py). All three compute through `EncoderLayer`.

/// BertEmbeddings / RobertaEmbeddings / DistilBERT Embeddings.
public struct Embeddings: Sendable {
    public let word: ParameterRef          // (V, H)
    public let position: ParameterRef      // (P, H)
    public let tokenType: ParameterRef?    // (types, H); DistilBERT has none
    public let layerNorm: LayerNormWeights
    /// The position id of a sequence's first token: 0, or padding_idx + 1 for RoBERTa.
    public let firstPosition: Int

    static func register(_ b: inout ParameterBuilder, config c: ModelConfig) -> Embeddings {
        b.scope("embeddings") { b in
            let word = b.tensor("word_embeddings.weight", shape: [c.vocabSize, c.hiddenSize], decays: true)
            let position = b.tensor("position_embeddings.weight", shape: [c.maxPositionEmbeddings, c.hiddenSize], decays: true)
            let tokenType = c.family == .distilbert ? nil
                : b.tensor("token_type_embeddings.weight", shape: [c.typeVocabSize, c.hiddenSize], decays: true)
            let norm = b.layerNorm("LayerNorm", dim: c.hiddenSize, eps: c.layerNormEps)
            return Embeddings(word: word, position: position, tokenType: tokenType, layerNorm: norm,
                              firstPosition: c.family == .roberta ? c.padTokenId + 1 : 0)
        }
    }
}

/// One post-LayerNorm transformer block: attention, residual + LN, feed-forward, residual + LN.
public struct EncoderLayer: Sendable {
    public let qkv: Linear               // query, key, value fused: (3H, H)
    public let attentionOutput: Linear   // (H, H)
    public let attentionNorm: LayerNormWeights
    public let intermediate: Linear      // (I, H)
    public let output: Linear            // (H, I)
    public let outputNorm: LayerNormWeights

    /// BertLayer: attention.self.{query,key,value}, attention.output.{dense,LayerNorm},
    /// intermediate.dense, output.{dense,LayerNorm}.
    static func registerBert(_ b: inout ParameterBuilder, config c: ModelConfig) -> EncoderLayer {
        let (h, i, eps) = (c.hiddenSize, c.intermediateSize, c.layerNormEps)
        let qkv = b.scope("attention.self") { $0.fusedLinear(["query", "key", "value"], out: h, in: h) }
        let (attnOut, attnNorm) = b.scope("attention.output") { b in
            (b.linear("dense", out: h, in: h), b.layerNorm("LayerNorm", dim: h, eps: eps))
        }
        let inter = b.scope("intermediate") { $0.linear("dense", out: i, in: h) }
        let (out, outNorm) = b.scope("output") { b in
            (b.linear("dense", out: h, in: i), b.layerNorm("LayerNorm", dim: h, eps: eps))
        }
        return EncoderLayer(qkv: qkv, attentionOutput: attnOut, attentionNorm: attnNorm,
                            intermediate: inter, output: out, outputNorm: outNorm)
    }

    /// DistilBERT TransformerBlock: attention.{q_lin,k_lin,v_lin,out_lin}, sa_layer_norm,
    /// ffn.{lin1,lin2}, output_layer_norm.
    static func registerDistilBert(_ b: inout ParameterBuilder, config c: ModelConfig) -> EncoderLayer {
        let (h, i, eps) = (c.hiddenSize, c.intermediateSize, c.layerNormEps)
        let qkv = b.scope("attention") { $0.fusedLinear(["q_lin", "k_lin", "v_lin"], out: h, in: h) }
        let attnOut = b.scope("attention") { $0.linear("out_lin", out: h, in: h) }
        let attnNorm = b.layerNorm("sa_layer_norm", dim: h, eps: eps)
        let (inter, out) = b.scope("ffn") { b in (b.linear("lin1", out: i, in: h), b.linear("lin2", out: h, in: i)) }
        let outNorm = b.layerNorm("output_layer_norm", dim: h, eps: eps)
        return EncoderLayer(qkv: qkv, attentionOutput: attnOut, attentionNorm: attnNorm,
                            intermediate: inter, output: out, outputNorm: outNorm)
    }
}

/// The sequence-classification head of each family's `*ForSequenceClassification`.
public enum ClassificationHead: Sendable {
    /// BertForSequenceClassification: pooler (dense + tanh on [CLS], part of BertModel) → classifier.
    case bert(classifier: Linear)
    /// DistilBertForSequenceClassification: pre_classifier → ReLU → classifier on the first token.
    case distilbert(preClassifier: Linear, classifier: Linear)
    /// RobertaClassificationHead: dense → tanh → out_proj on <s>.
    case roberta(dense: Linear, outProj: Linear)

    static func register(_ b: inout ParameterBuilder, config c: ModelConfig, numLabels: Int) -> ClassificationHead {
        let h = c.hiddenSize
        switch c.family {
        case .bert:
            return .bert(classifier: b.linear("classifier", out: numLabels, in: h))
        case .distilbert:
            return .distilbert(preClassifier: b.linear("pre_classifier", out: h, in: h),
                               classifier: b.linear("classifier", out: numLabels, in: h))
        case .roberta:
            return b.scope("classifier") { b in
                .roberta(dense: b.linear("dense", out: h, in: h), outProj: b.linear("out_proj", out: numLabels, in: h))
            }
        }
    }

    /// The final projection, whose output size is the label count.
    public var finalLayer: Linear {
        switch self {
        case .bert(let c): return c
        case .distilbert(_, let c): return c
        case .roberta(_, let o): return o
        }
    }
}

/// Every parameter of one model, as views into its arena.
public struct ModuleTree: Sendable {
    public let embeddings: Embeddings
    public let layers: [EncoderLayer]
    /// BertPooler: dense + tanh on [CLS]. BERT only, and optional there (add_pooling_layer=False).
    public let pooler: Linear?
    public let head: ClassificationHead?
    public let layout: ParameterLayout

    /// Registers the tree of `config` under the names of `*ForSequenceClassification`
    /// (`bert.embeddings…`, `classifier…`); a head is registered when numLabels > 0.
    public init(config c: ModelConfig, numLabels: Int, pooler withPooler: Bool) {
        var b = ParameterBuilder()
        let prefix = c.family.basePrefix
        (embeddings, layers, pooler) = b.scope(prefix) { b in
            let emb = Embeddings.register(&b, config: c)
            let layerScope = c.family == .distilbert ? "transformer.layer" : "encoder.layer"
            let layers = (0..<c.numLayers).map { n in
                b.scope("\(layerScope).\(n)") { b in
                    c.family == .distilbert ? EncoderLayer.registerDistilBert(&b, config: c)
                                            : EncoderLayer.registerBert(&b, config: c)
                }
            }
            let pooler = (c.family == .bert && withPooler)
                ? b.scope("pooler") { $0.linear("dense", out: c.hiddenSize, in: c.hiddenSize) } : nil
            return (emb, layers, pooler)
        }
        head = numLabels > 0 ? ClassificationHead.register(&b, config: c, numLabels: numLabels) : nil
        layout = b.layout
    }
}
