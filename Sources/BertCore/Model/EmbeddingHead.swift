import Foundation

/// A classifier on the sentence embedding instead of on [CLS]: logits (C) = W (C, H) · e + b,
/// with e the mean-pooled, L2-normalised last hidden state (`TransformerModel.embed`). This is
/// how a few-shot (SetFit) model classifies: a contrastively tuned encoder and a logistic
/// regression fitted on its embeddings. A binary logistic regression's single vector w is stored
/// as the rows [0, w] with bias [0, b], so that the softmax of the two logits is exactly
/// [1 − σ(w·e + b), σ(w·e + b)] and every head is served with a softmax.
///
/// On disk: config.json's `embedding_head` object ({"pooling": "mean", "normalize": true}) and
/// `embedding_head.safetensors` beside model.safetensors, holding `weight` (C, H) and `bias` (C).
/// transformers loads the directory as the bare encoder (`BertModel`) and ignores both.
public struct EmbeddingHead: Sendable, Equatable {
    public static let configKey = "embedding_head"
    public static let fileName = "embedding_head.safetensors"

    /// (C, H) row-major.
    public let weight: [Float]
    /// (C)
    public let bias: [Float]
    public var classes: Int { bias.count }
    public var hidden: Int { bias.isEmpty ? 0 : weight.count / bias.count }

    public init(weight: [Float], bias: [Float]) {
        precondition(!bias.isEmpty && weight.count % bias.count == 0, "a head of \(weight.count) weights for \(bias.count) classes")
        self.weight = weight
        self.bias = bias
    }

    /// Row c of W: the direction in embedding space that scores class c.
    public func row(_ c: Int) -> ArraySlice<Float> { weight[(c * hidden)..<((c + 1) * hidden)] }

    /// logits (C) of one embedding (H), accumulated in Double.
    public func logits(_ embedding: [Float]) -> [Float] {
        precondition(embedding.count == hidden)
        return (0..<classes).map { c in
            var sum = Double(bias[c])
            let base = c * hidden
            for j in 0..<hidden { sum += Double(weight[base + j]) * Double(embedding[j]) }
            return Float(sum)
        }
    }

    /// config.json's `embedding_head` object.
    public static let configValue: [String: Any] = ["pooling": "mean", "normalize": true]

    /// Checks config.json's `embedding_head` says what this head computes.
    static func validateConfig(_ raw: Any, source: String) throws {
        guard let object = raw as? [String: Any], object["pooling"] as? String == "mean",
              (object["normalize"] as? NSNumber)?.boolValue == true else {
            throw BertError(.invalidConfig, "\(source): embedding_head must be {\"pooling\": \"mean\", \"normalize\": true}")
        }
    }

    /// Reads `embedding_head.safetensors` of a model directory whose config declares one.
    static func load(directory: URL, hidden: Int, labels: [String]) throws -> EmbeddingHead {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw BertError(.weightMismatch, "config.json declares an embedding_head but \(url.path) is missing")
        }
        let file = try SafetensorsFile(path: url.path)
        guard let w = file.tensors["weight"], let b = file.tensors["bias"], w.shape.count == 2, b.shape.count == 1,
              w.shape[1] == hidden, w.shape[0] == b.shape[0], w.shape[0] >= 2 else {
            throw BertError(.weightMismatch, "\(url.path) must hold weight (C, \(hidden)) and bias (C) with C ≥ 2")
        }
        guard labels.count == b.shape[0] else {
            throw BertError(.weightMismatch, "\(url.path) scores \(b.shape[0]) classes but config.json's id2label names \(labels.count)")
        }
        var weight = [Float](repeating: 0, count: w.count), bias = [Float](repeating: 0, count: b.count)
        try weight.withUnsafeMutableBufferPointer { try file.readFloats("weight", into: $0.baseAddress!) }
        try bias.withUnsafeMutableBufferPointer { try file.readFloats("bias", into: $0.baseAddress!) }
        return EmbeddingHead(weight: weight, bias: bias)
    }

    /// Writes `embedding_head.safetensors` into a model directory.
    public func write(into directory: URL) throws {
        var writer = SafetensorsWriter()
        writer.add("weight", shape: [classes, hidden], values: weight)
        writer.add("bias", shape: [classes], values: bias)
        writer.metadata = ["format": "pt"]
        try writer.write(to: directory.appendingPathComponent(Self.fileName))
    }
}
