import Foundation

/// The activation of the feed-forward block (config `hidden_act` / DistilBERT `activation`).
public enum HiddenActivation: String, Sendable {
    case gelu            // exact: x·Φ(x) with erf
    case geluNew = "gelu_new"  // tanh approximation (also "gelu_pytorch_tanh")
    case relu
}

/// config.json of a Hugging Face model, decoded with explicit keys per family: a key that the
/// family requires and the file lacks is an error naming it, never a silent default.
public struct ModelConfig: Sendable, Equatable {
    public var family: ModelFamily
    public var architectures: [String]
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var intermediateSize: Int
    public var activation: HiddenActivation
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int          // 0 for DistilBERT (no token type embeddings)
    /// The width of the embedding tables: the hidden size, except in ELECTRA checkpoints whose
    /// `embedding_size` differs (then `embeddings_project` maps it to the hidden size).
    public var embeddingSize: Int
    public var layerNormEps: Float
    public var padTokenId: Int
    /// Labels in id order (from `id2label`); empty for an encoder without a classification head.
    public var labels: [String]
    public var problemType: String?
    /// Per label, the probability at or above which a multi-label model (or a single-label one
    /// with a tuned threshold) says yes: config.json's `decision_thresholds` ({label: p}); a label
    /// without one uses 0.5.
    public var decisionThresholds: [String: Float] = [:]
    /// Texts longer than a window are read as overlapping windows whose logits are aggregated
    /// (config.json's `long_documents`, which training with windows writes); nil: truncated.
    public var longDocuments: LongDocumentPolicy?
    /// config.json's `embedding_head`: the model classifies its sentence embedding with the
    /// head in embedding_head.safetensors (a few-shot model; see `EmbeddingHead`).
    public var declaresEmbeddingHead = false
    /// The standard deviation Hugging Face initialises new weights with (a fresh head).
    public var initializerRange: Float
    /// DistilBERT's sinusoidal_pos_embds: the position table is fixed (HF sets requires_grad
    /// False on it), so training must not update it. false for BERT and RoBERTa.
    public var sinusoidalPositionEmbeddings = false

    public var headSize: Int { hiddenSize / numHeads }

    /// Whether config.json names a sequence-classification architecture.
    public var declaresSequenceClassification: Bool {
        architectures.contains { $0.hasSuffix("ForSequenceClassification") }
    }

    /// The number of positions a sequence may have, special tokens included. RoBERTa's position
    /// ids start at padding_idx + 1, so two of its position embeddings are never used.
    public var maxSequenceLength: Int {
        family.embeddings.positionsAfterPadding ? maxPositionEmbeddings - padTokenId - 1 : maxPositionEmbeddings
    }

    /// Whether the embeddings are projected to the hidden size (ELECTRA's `embeddings_project`).
    public var projectsEmbeddings: Bool { embeddingSize != hiddenSize }

    public init(contentsOf url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw BertError(.notAModel, "\(url.path) does not exist or cannot be read")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw BertError(.invalidConfig, "\(url.path) is not a JSON object")
        }
        try self.init(json: json, source: url.path)
    }

    public init(json: [String: Any], source: String = "config.json") throws {
        let keys = Keys(json: json, source: source)
        let modelType: String = try keys.require("model_type")
        guard let family = ModelFamily.named(modelType) else {
            throw BertError(.unsupportedModel, "\(source): model_type \"\(modelType)\" is not supported (supported: \(ModelFamily.supportedList))")
        }
        self.family = family
        architectures = (json["architectures"] as? [String]) ?? []
        vocabSize = try keys.require("vocab_size")
        maxPositionEmbeddings = try keys.require("max_position_embeddings")
        padTokenId = (try keys.optional("pad_token_id")) ?? 0
        problemType = try keys.optional("problem_type")
        initializerRange = Float((try keys.optional("initializer_range") as Double?) ?? 0.02)
        let names = family.configKeys
        hiddenSize = try keys.require(names.hiddenSize)
        numLayers = try keys.require(names.numLayers)
        numHeads = try keys.require(names.numHeads)
        intermediateSize = try keys.require(names.intermediateSize)
        activation = try keys.activation(names.activation)
        typeVocabSize = try names.typeVocabSize.map { try keys.require($0) } ?? 0
        // DistilBERT hard-codes 1e-12 in modeling_distilbert.py.
        layerNormEps = try names.layerNormEps.map { Float(try keys.require($0) as Double) } ?? 1e-12
        embeddingSize = try names.embeddingSize.flatMap { try keys.optional($0) as Int? } ?? hiddenSize
        if let key = names.positionEmbeddingType {
            let positionType: String = (try keys.optional(key)) ?? "absolute"
            guard positionType == "absolute" else {
                throw BertError(.unsupportedModel, "\(source): \(key) \"\(positionType)\" is not supported (only absolute)")
            }
        }
        // The sinusoidal table is stored in the checkpoint as position_embeddings.weight, so
        // inference needs nothing special; training keeps it frozen.
        sinusoidalPositionEmbeddings = try names.sinusoidalPositions.map { (try keys.optional($0) as Bool?) == true } ?? false
        guard hiddenSize > 0, numHeads > 0, hiddenSize % numHeads == 0 else {
            throw BertError(.invalidConfig, "\(source): hidden size \(hiddenSize) is not a multiple of the head count \(numHeads)")
        }
        guard numLayers > 0, intermediateSize > 0, vocabSize > 0, maxPositionEmbeddings > 0, embeddingSize > 0 else {
            throw BertError(.invalidConfig, "\(source): layer count, intermediate size, embedding size, vocabulary size and max_position_embeddings must be positive")
        }
        labels = try Self.decodeLabels(json, source: source)
        decisionThresholds = try Self.decodeThresholds(json, labels: labels, source: source)
        longDocuments = try LongDocumentPolicy.decode(json, maxSequenceLength: maxSequenceLength, source: source)
        if let raw = json[EmbeddingHead.configKey], !(raw is NSNull) {
            try EmbeddingHead.validateConfig(raw, source: source)
            declaresEmbeddingHead = true
        }
    }

    /// How scores come from the logits, as transformers' text-classification pipeline decides:
    /// `problem_type` regression → the raw outputs; multi_label_classification, or one output
    /// without a problem type → a sigmoid per output; otherwise a softmax.
    public var scoring: Scoring {
        if problemType == "regression" { return .identity }
        if problemType == "multi_label_classification" || labels.count == 1 { return .sigmoid }
        return .softmax
    }

    public enum Scoring: String, Sendable {
        case softmax, sigmoid, identity
    }

    private static func decodeThresholds(_ json: [String: Any], labels: [String], source: String) throws -> [String: Float] {
        guard let raw = json["decision_thresholds"], !(raw is NSNull) else { return [:] }
        guard let map = raw as? [String: Any] else {
            throw BertError(.invalidConfig, "\(source): decision_thresholds must be an object {label: probability}")
        }
        var thresholds: [String: Float] = [:]
        for (label, value) in map {
            guard labels.contains(label) else {
                throw BertError(.invalidConfig, "\(source): decision_thresholds names \"\(label)\", which is not in id2label")
            }
            guard let number = value as? NSNumber, number.doubleValue > 0, number.doubleValue < 1 else {
                throw BertError(.invalidConfig, "\(source): the decision threshold of \"\(label)\" must be a probability in (0, 1)")
            }
            thresholds[label] = number.floatValue
        }
        return thresholds
    }

    /// `id2label` as a dense list; ids must be 0..<n. A config without it has no labels.
    private static func decodeLabels(_ json: [String: Any], source: String) throws -> [String] {
        guard let map = json["id2label"] as? [String: Any], !map.isEmpty else { return [] }
        var labels = [String?](repeating: nil, count: map.count)
        for (key, value) in map {
            guard let id = Int(key), id >= 0, id < map.count, let name = value as? String else {
                throw BertError(.invalidConfig, "\(source): id2label must map the ids 0..<\(map.count) to strings (bad entry \"\(key)\")")
            }
            labels[id] = name
        }
        return labels.map { $0! }
    }
}

/// Typed access to config.json keys with errors that name the key.
private struct Keys {
    let json: [String: Any]
    let source: String

    func require<T>(_ key: String) throws -> T {
        guard let raw = json[key], !(raw is NSNull) else {
            throw BertError(.invalidConfig, "\(source): missing key \"\(key)\"")
        }
        guard let value = Self.cast(raw, to: T.self) else {
            throw BertError(.invalidConfig, "\(source): key \"\(key)\" has the wrong type (\(raw))")
        }
        return value
    }

    func optional<T>(_ key: String) throws -> T? {
        guard let raw = json[key], !(raw is NSNull) else { return nil }
        guard let value = Self.cast(raw, to: T.self) else {
            throw BertError(.invalidConfig, "\(source): key \"\(key)\" has the wrong type (\(raw))")
        }
        return value
    }

    func activation(_ key: String) throws -> HiddenActivation {
        let name: String = try require(key)
        switch name {
        case "gelu": return .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluNew
        case "relu": return .relu
        default: throw BertError(.unsupportedModel, "\(source): \(key) \"\(name)\" is not supported (gelu, gelu_new, relu)")
        }
    }

    /// JSONSerialization gives NSNumber for numbers and booleans; accept exact integers as Int
    /// and any number as Double.
    private static func cast<T>(_ raw: Any, to: T.Type) -> T? {
        if T.self == Int.self, let n = raw as? NSNumber {
            let d = n.doubleValue
            return d == d.rounded() ? (Int(d) as? T) : nil
        }
        if T.self == Double.self, let n = raw as? NSNumber { return n.doubleValue as? T }
        return raw as? T
    }
}
