import BertCore

/// Which parts of the model get gradients, and how far down the backward must run, derived
/// once from the options. A frozen part still runs forward but its weight gradients are never
/// computed, and the backward stops below the lowest part that trains.
struct TrainablePlan: Sendable {
    let family: ModelFamily
    let embeddings: Bool
    /// layers[l]: layer l's weights get gradients.
    let layers: [Bool]
    /// The head's first dense layer: BERT's pooler (part of the base model, frozen with it),
    /// or a head module (DistilBERT's pre_classifier, RoBERTa's classifier.dense, …).
    let headFirst: Bool
    let lora: Bool
    /// DistilBERT with sinusoidal_pos_embds: its position table never trains.
    let fixedPositions: Bool
    /// The lowest layer whose backward runs; nil when the encoder needs no backward at all.
    let lowestBackwardLayer: Int?
    /// The head's output layer gets gradients (always, except when only the input's gradient is wanted).
    let headOutput: Bool
    /// The backward runs down to the embeddings' output for its own sake (explanations), with no
    /// weight gradient at all.
    let inputGradient: Bool

    init(config: ModelConfig, options: TrainingOptions) {
        family = config.family
        lora = options.lora != nil
        fixedPositions = config.sinusoidalPositionEmbeddings
        let n = config.numLayers
        switch (options.freezing, lora) {
        case (_, true):
            embeddings = false
            layers = Array(repeating: false, count: n)
        case (.none, false):
            embeddings = true
            layers = Array(repeating: true, count: n)
        case (.encoder, false):
            embeddings = false
            layers = Array(repeating: false, count: n)
        case (.lowerLayers(let k), false):
            embeddings = k == 0
            layers = (0..<n).map { $0 >= k }
        }
        let baseFrozen = lora || options.freezing == .encoder
        headFirst = config.family.head.first == .pooler ? !baseFrozen : true
        if embeddings || lora {
            lowestBackwardLayer = 0
        } else {
            lowestBackwardLayer = layers.firstIndex(of: true)
        }
        headOutput = true
        inputGradient = false
    }

    /// Nothing trains; the backward runs from the logits to the embeddings' output (the gradient
    /// that integrated gradients integrates).
    init(inputGradientOf config: ModelConfig) {
        family = config.family
        lora = false
        fixedPositions = config.sinusoidalPositionEmbeddings
        embeddings = false
        layers = Array(repeating: false, count: config.numLayers)
        headFirst = false
        headOutput = false
        inputGradient = true
        lowestBackwardLayer = 0
    }

    /// Whether layer l's backward must produce the gradient of its input.
    func needsInputGradient(layer l: Int) -> Bool {
        guard let lowest = lowestBackwardLayer else { return false }
        return embeddings || inputGradient || l > lowest
    }

    /// Whether the parameter of this HF name trains.
    func trains(_ name: String) -> Bool {
        let base = family.weightPrefix + "."
        guard name.hasPrefix(base) else { return true }  // classifier / pre_classifier: the head
        let rest = name.dropFirst(base.count)
        if rest == "embeddings.position_embeddings.weight", fixedPositions { return false }
        if rest.hasPrefix("embeddings.") || rest.hasPrefix("embeddings_project.") { return embeddings }
        if rest.hasPrefix("pooler.") { return headFirst }
        let scope = family.layerScope + "."
        if rest.hasPrefix(scope) {
            let digits = rest.dropFirst(scope.count).prefix { $0.isNumber }
            if let l = Int(digits), l < layers.count { return layers[l] }
        }
        preconditionFailure("parameter \(name) is not part of any module the trainer knows")
    }
}
