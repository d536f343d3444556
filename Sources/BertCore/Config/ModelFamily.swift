// Everything that differs between the model families bertd runs, in one place. Loading,
// inference, training, LoRA and checkpoint writing read these descriptions and never branch on
// a family's name: adding a family that reuses these building blocks is one entry in `all`
// (plus its tokenizer's loader table in BertTokenizers, and its tests).

/// A model family, by config.json's `model_type`: its weight names, embedding layout, pooler and
/// sequence-classification head as Hugging Face's modeling_<family>.py defines them.
public struct ModelFamily: Sendable, Hashable, CustomStringConvertible {
    /// config.json's `model_type`.
    public let modelType: String
    /// `base_model_prefix`: the prefix `*ForSequenceClassification` puts before the encoder's
    /// weights (a bare encoder checkpoint stores the same names without it). Not always the
    /// model type: XLM-RoBERTa's is `roberta`.
    public let weightPrefix: String
    /// The architecture AutoModelForSequenceClassification instantiates for this family.
    public let sequenceClassificationArchitecture: String
    /// The config.json keys of the encoder's sizes.
    public let configKeys: ConfigKeys
    /// The module path of the encoder's layers under the prefix (`encoder.layer`).
    public let layerScope: String
    /// The module names inside one layer.
    public let layerModules: LayerModules
    public let embeddings: EmbeddingLayout
    /// Whether the base model has BertPooler (dense + tanh on the first token), optional in a
    /// bare checkpoint (add_pooling_layer=False) and required when the head reads it.
    public let hasPooler: Bool
    public let head: HeadShape
    /// Whether hidden dropout follows the attention output projection (BertSelfOutput);
    /// DistilBERT's block has none there.
    public let attentionOutputDropout: Bool

    public var description: String { modelType }
    public static func == (a: ModelFamily, b: ModelFamily) -> Bool { a.modelType == b.modelType }
    public func hash(into hasher: inout Hasher) { hasher.combine(modelType) }

    /// The name of one layer's module: `bert.encoder.layer.3.attention.self.query`.
    public func layerModule(_ layer: Int, _ module: String) -> String {
        "\(weightPrefix).\(layerScope).\(layer).\(module)"
    }
}

extension ModelFamily {
    /// The bare encoder's architecture (BertModel, RobertaModel, …): what AutoModel instantiates.
    public var baseArchitecture: String {
        String(sequenceClassificationArchitecture.dropLast("ForSequenceClassification".count)) + "Model"
    }

    /// Every family bertd loads, in the order error messages list them.
    public static let all: [ModelFamily] = [.bert, .distilbert, .roberta, .xlmRoberta, .electra]

    public static func named(_ modelType: String) -> ModelFamily? { all.first { $0.modelType == modelType } }

    /// "bert, distilbert, …" for error messages and help.
    public static var supportedList: String { all.map(\.modelType).joined(separator: ", ") }

    /// BertForSequenceClassification (modeling_bert.py): pooler → dropout → classifier.
    public static let bert = ModelFamily(
        modelType: "bert", weightPrefix: "bert", sequenceClassificationArchitecture: "BertForSequenceClassification",
        configKeys: .bert, layerScope: "encoder.layer", layerModules: .bert,
        embeddings: EmbeddingLayout(tokenTypes: true, positionsAfterPadding: false),
        hasPooler: true,
        head: HeadShape(first: .pooler, activation: .tanh, inputDropout: false, output: "classifier"),
        attentionOutputDropout: true)

    /// DistilBertForSequenceClassification (modeling_distilbert.py): pre_classifier → ReLU →
    /// dropout → classifier on the first token; no token types, sinusoidal positions optional.
    public static let distilbert = ModelFamily(
        modelType: "distilbert", weightPrefix: "distilbert",
        sequenceClassificationArchitecture: "DistilBertForSequenceClassification",
        configKeys: .distilbert, layerScope: "transformer.layer", layerModules: .distilbert,
        embeddings: EmbeddingLayout(tokenTypes: false, positionsAfterPadding: false),
        hasPooler: false,
        head: HeadShape(first: .module("pre_classifier"), activation: .relu, inputDropout: false, output: "classifier"),
        attentionOutputDropout: false)

    /// RobertaForSequenceClassification (modeling_roberta.py): RobertaClassificationHead is
    /// dropout → dense → tanh → dropout → out_proj on <s>; positions start at padding_idx + 1.
    public static let roberta = ModelFamily(
        modelType: "roberta", weightPrefix: "roberta",
        sequenceClassificationArchitecture: "RobertaForSequenceClassification",
        configKeys: .bert, layerScope: "encoder.layer", layerModules: .bert,
        embeddings: EmbeddingLayout(tokenTypes: true, positionsAfterPadding: true),
        hasPooler: false,
        head: HeadShape(first: .module("classifier.dense"), activation: .tanh, inputDropout: true, output: "classifier.out_proj"),
        attentionOutputDropout: true)

    /// XLMRobertaForSequenceClassification (modeling_xlm_roberta.py): RoBERTa's modules under
    /// the same `roberta.` prefix. (Its SentencePiece tokenizer is not supported yet.)
    public static let xlmRoberta = ModelFamily(
        modelType: "xlm-roberta", weightPrefix: "roberta",
        sequenceClassificationArchitecture: "XLMRobertaForSequenceClassification",
        configKeys: .bert, layerScope: "encoder.layer", layerModules: .bert,
        embeddings: roberta.embeddings, hasPooler: false, head: roberta.head, attentionOutputDropout: true)

    /// ElectraForSequenceClassification (modeling_electra.py): BERT's layers, embeddings of
    /// `embedding_size` projected to the hidden size by `embeddings_project` when the two
    /// differ, no pooler; ElectraClassificationHead is dropout → dense → GELU → dropout →
    /// out_proj on the first token.
    public static let electra = ModelFamily(
        modelType: "electra", weightPrefix: "electra",
        sequenceClassificationArchitecture: "ElectraForSequenceClassification",
        configKeys: .electra, layerScope: "encoder.layer", layerModules: .bert,
        embeddings: EmbeddingLayout(tokenTypes: true, positionsAfterPadding: false),
        hasPooler: false,
        head: HeadShape(first: .module("classifier.dense"), activation: .gelu, inputDropout: true, output: "classifier.out_proj"),
        attentionOutputDropout: true)
}

/// The config.json keys of a family's sizes; nil where the family has no such key.
public struct ConfigKeys: Sendable {
    public let hiddenSize, numLayers, numHeads, intermediateSize, activation: String
    /// nil: no token type embeddings (typeVocabSize 0).
    public let typeVocabSize: String?
    /// nil: the family hard-codes 1e-12 (DistilBERT).
    public let layerNormEps: String?
    /// The width of the embedding tables when it may differ from the hidden size (ELECTRA).
    public let embeddingSize: String?
    /// `position_embedding_type`, of which only "absolute" is supported.
    public let positionEmbeddingType: String?
    /// DistilBERT's `sinusoidal_pos_embds`.
    public let sinusoidalPositions: String?

    static let bert = ConfigKeys(
        hiddenSize: "hidden_size", numLayers: "num_hidden_layers", numHeads: "num_attention_heads",
        intermediateSize: "intermediate_size", activation: "hidden_act", typeVocabSize: "type_vocab_size",
        layerNormEps: "layer_norm_eps", embeddingSize: nil, positionEmbeddingType: "position_embedding_type",
        sinusoidalPositions: nil)
    static let electra = ConfigKeys(
        hiddenSize: "hidden_size", numLayers: "num_hidden_layers", numHeads: "num_attention_heads",
        intermediateSize: "intermediate_size", activation: "hidden_act", typeVocabSize: "type_vocab_size",
        layerNormEps: "layer_norm_eps", embeddingSize: "embedding_size", positionEmbeddingType: "position_embedding_type",
        sinusoidalPositions: nil)
    static let distilbert = ConfigKeys(
        hiddenSize: "dim", numLayers: "n_layers", numHeads: "n_heads", intermediateSize: "hidden_dim",
        activation: "activation", typeVocabSize: nil, layerNormEps: nil, embeddingSize: nil,
        positionEmbeddingType: nil, sinusoidalPositions: "sinusoidal_pos_embds")
}

/// The module names of one post-LayerNorm encoder layer, relative to the layer.
public struct LayerModules: Sendable {
    public let query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm: String

    /// BertLayer (also RoBERTa's, XLM-RoBERTa's and ELECTRA's).
    static let bert = LayerModules(
        query: "attention.self.query", key: "attention.self.key", value: "attention.self.value",
        attentionOutput: "attention.output.dense", attentionNorm: "attention.output.LayerNorm",
        intermediate: "intermediate.dense", output: "output.dense", outputNorm: "output.LayerNorm")
    /// DistilBERT's TransformerBlock.
    static let distilbert = LayerModules(
        query: "attention.q_lin", key: "attention.k_lin", value: "attention.v_lin",
        attentionOutput: "attention.out_lin", attentionNorm: "sa_layer_norm",
        intermediate: "ffn.lin1", output: "ffn.lin2", outputNorm: "output_layer_norm")
}

/// How the embeddings of a family are laid out (all have word, position and a LayerNorm).
public struct EmbeddingLayout: Sendable {
    /// Whether `token_type_embeddings` exists.
    public let tokenTypes: Bool
    /// RoBERTa's position ids start at padding_idx + 1, so two rows of the table are never used.
    public let positionsAfterPadding: Bool
}

/// A sequence-classification head as one shape: the first token of each sequence, [dropout], a
/// first dense layer with an activation, dropout, the output layer. Inference and training
/// both read this; neither knows a family's head by name.
public struct HeadShape: Sendable, Equatable {
    public enum FirstDense: Sendable, Equatable {
        /// BertPooler's dense layer: part of the base model (frozen with it).
        case pooler
        /// A head module of this name (`pre_classifier`, `classifier.dense`).
        case module(String)
    }
    public let first: FirstDense
    public let activation: Activation
    /// Whether dropout is applied to the first token before the first dense layer.
    public let inputDropout: Bool
    /// The module name of the output projection, whose size is the label count.
    public let output: String
}
