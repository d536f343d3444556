import BertCore

/// Which parameters a fine-tune updates. Frozen parameters get no gradient (their backward work
/// is skipped) and no optimizer update, weight decay included.
public enum Freezing: Sendable, Equatable {
    /// Full fine-tuning: every parameter.
    case none
    /// Head only: the whole base model (`bert.*` / `distilbert.*` / `roberta.*`: embeddings,
    /// layers and BERT's pooler) is frozen, as `for p in model.bert.parameters(): p.requires_grad = False`.
    case encoder
    /// The embeddings and layers 0..<k are frozen; layers k... and the head train.
    case lowerLayers(Int)
}

/// Dropout probabilities of training mode, named after the HF config keys they mirror.
public struct DropoutRates: Sendable, Equatable {
    /// hidden_dropout_prob (DistilBERT: dropout): after the embeddings and after each block's dense outputs.
    public var hidden: Float
    /// attention_probs_dropout_prob (DistilBERT: attention_dropout): on the attention probabilities.
    public var attention: Float
    /// classifier_dropout (DistilBERT: seq_classif_dropout), or `hidden` when the config has none.
    public var classifier: Float

    public init(hidden: Float, attention: Float, classifier: Float) {
        self.hidden = hidden
        self.attention = attention
        self.classifier = classifier
    }

    /// No dropout: training mode computes exactly what inference computes.
    public static let none = DropoutRates(hidden: 0, attention: 0, classifier: 0)
    /// The rates of every BERT-family checkpoint's config (0.1 each).
    public static let huggingFaceDefault = DropoutRates(hidden: 0.1, attention: 0.1, classifier: 0.1)

    var isZero: Bool { hidden == 0 && attention == 0 && classifier == 0 }
}

/// How a `Trainer` computes the loss and which gradients it produces.
public struct TrainingOptions: Sendable {
    public var freezing: Freezing
    public var dropout: DropoutRates
    public var loss: LossFunction
    /// Seed of the dropout masks (and of new LoRA weights).
    public var seed: UInt64
    /// LoRA adapters: when set, the base model is frozen and only the adapters and the head
    /// train (PEFT with modules_to_save = the classifier); `freezing` must then be `.none`.
    public var lora: LoRAConfig?

    public init(freezing: Freezing = .none, dropout: DropoutRates = .none, loss: LossFunction = .crossEntropy,
                seed: UInt64 = 0, lora: LoRAConfig? = nil) {
        self.freezing = freezing
        self.dropout = dropout
        self.loss = loss
        self.seed = seed
        self.lora = lora
    }

    func validate(config: ModelConfig) throws {
        for (name, p) in [("hidden", dropout.hidden), ("attention", dropout.attention), ("classifier", dropout.classifier)]
        where !(p >= 0 && p < 1) {
            throw BertError(.invalidInput, "\(name) dropout \(p) is outside [0, 1)")
        }
        if case .lowerLayers(let k) = freezing, !(0...config.numLayers).contains(k) {
            throw BertError(.invalidInput, "cannot freeze \(k) layers of a \(config.numLayers)-layer model")
        }
        if lora != nil, freezing != .none {
            throw BertError(.invalidInput, "LoRA freezes the base model itself: use freezing .none with LoRA")
        }
        try lora?.validate()
    }
}

/// The output of a training forward: the loss and the logits (B, labels).
public struct TrainingOutput: Sendable {
    public let loss: Float
    public let logits: [[Float]]
}
