import BertCore

/// Zero-shot classification with a sentence-embedding model (no trained head): a text's logit
/// for each label is the cosine similarity of their embeddings times `scale`, and the scores are
/// the softmax of those logits. The scale 20 is the one all-MiniLM-L6-v2 was trained with
/// (sentence-transformers' MultipleNegativesRankingLoss), which makes its softmax meaningful.
public struct ZeroShotLabels: Sendable {
    public static let defaultScale: Float = 20

    public let labels: [String]
    public let embeddings: [[Float]]
    public let scale: Float

    public init(labels: [String], model: TextModel, workspace: Workspace, scale: Float = ZeroShotLabels.defaultScale) throws {
        guard !labels.isEmpty else { throw BertError(.invalidInput, "zero-shot classification needs at least one label") }
        self.labels = labels
        self.scale = scale
        embeddings = try model.embed(try labels.map { try model.prepare($0) }, workspace: workspace)
    }

    /// Labels whose embeddings were computed elsewhere (the daemon batches them with other work).
    public init(labels: [String], embeddings: [[Float]], scale: Float = ZeroShotLabels.defaultScale) {
        precondition(labels.count == embeddings.count, "one embedding per label")
        self.labels = labels
        self.embeddings = embeddings
        self.scale = scale
    }

    /// Embeddings are L2-normalised, so the dot product is the cosine similarity.
    public func classify(embedding: [Float], truncatedTokens: Int = 0) -> Classification {
        let logits = embeddings.map { label in zip(label, embedding).reduce(Float(0)) { $0 + $1.0 * $1.1 } * scale }
        return Classification(labels: labels, logits: logits, multiLabel: false, truncatedTokens: truncatedTokens)
    }
}

extension ZeroShotLabels {
    /// The zero-shot logits (B, labels) of a tokenized batch: `scale` · cos(text, label), the
    /// texts embedded as `embed` does (the labels' embeddings were computed by the same model).
    public func logits(_ batch: TokenBatch, model: TransformerModel, workspace: Workspace) throws -> [[Float]] {
        try model.embed(batch, workspace: workspace).map { classify(embedding: $0).logits }
    }
}

extension TextModel {
    public func classify(_ inputs: [Input], zeroShot: ZeroShotLabels, workspace: Workspace) throws -> [Classification] {
        let vectors = try embed(inputs, workspace: workspace)
        return zip(inputs, vectors).map { zeroShot.classify(embedding: $1, truncatedTokens: $0.truncatedTokens) }
    }
}
