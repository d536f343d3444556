/// The arithmetic a model's encoder runs in. `int8` quantizes the four dense layers of every
/// encoder layer (weights per output channel at load time, activations per token at run time)
/// and stores the word-embedding table per row in int8 (dequantized at lookup); position and
/// token-type embeddings, LayerNorm, attention, the pooler and the head stay fp32.
public enum Precision: String, Sendable, CaseIterable, Codable {
    case fp32
    case int8

    /// What `int8` quantizes, recorded with a quality gate (quantization.json `scheme`): a gate
    /// passed for another scheme does not vouch for this one.
    public static let int8Scheme = "dense per output channel + word embeddings per row, activations per token (v2)"

    /// Parses "fp32" / "int8"; the error lists the accepted values.
    public init(parsing text: String) throws {
        guard let value = Precision(rawValue: text.lowercased()) else {
            throw BertError(.invalidInput, "unknown precision \"\(text)\": expected fp32 or int8")
        }
        self = value
    }
}
