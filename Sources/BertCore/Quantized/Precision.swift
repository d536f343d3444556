/// The arithmetic a model's encoder runs in. `int8` quantizes the four dense layers of every
/// encoder layer (weights per output channel at load time, activations per token at run time);
/// embeddings, LayerNorm, attention, the pooler and the head stay fp32.
public enum Precision: String, Sendable, CaseIterable, Codable {
    case fp32
    case int8

    /// Parses "fp32" / "int8"; the error lists the accepted values.
    public init(parsing text: String) throws {
        guard let value = Precision(rawValue: text.lowercased()) else {
            throw BertError(.invalidInput, "unknown precision \"\(text)\": expected fp32 or int8")
        }
        self = value
    }
}
