/// The result of tokenizing one text (or a pair of texts), special tokens included.
public struct Encoding: Sendable {
    public var ids: [Int32]
    /// 0 for the first sequence (and its special tokens), 1 for the second in BERT pairs;
    /// RoBERTa uses 0 throughout.
    public var typeIds: [Int32]
    /// Per token, the Unicode-scalar range it covers in its own original text (offsets of the
    /// pair's tokens are into the pair text), as Python's `offset_mapping`; special tokens 0..<0.
    public var offsets: [Range<Int>]
    /// How many tokens truncation removed (0 if none).
    public var truncatedTokenCount: Int
    /// Per token, which text it comes from: 0 (the text), 1 (the pair), or -1 for a special token
    /// the post-processor added — HF's `sequence_ids()` with -1 for None.
    public var sequenceIndices: [Int8]

    /// HF's `special_tokens_mask`: true for the tokens the post-processor added.
    public var specialTokensMask: [Bool] { sequenceIndices.map { $0 < 0 } }

    /// The token strings. Computed from `ids` on demand, so that encoding never allocates a
    /// String per token; assigning stores an explicit list instead.
    public var tokens: [String] {
        get { explicitTokens ?? ids.map { vocabulary?.token(forId: $0) ?? "" } }
        set { explicitTokens = newValue }
    }

    let vocabulary: TokenStrings?
    private var explicitTokens: [String]?

    public init(ids: [Int32], typeIds: [Int32], offsets: [Range<Int>], truncatedTokenCount: Int = 0, tokens: [String],
                sequenceIndices: [Int8]? = nil) {
        self.ids = ids
        self.typeIds = typeIds
        self.offsets = offsets
        self.truncatedTokenCount = truncatedTokenCount
        self.sequenceIndices = sequenceIndices ?? [Int8](repeating: 0, count: ids.count)
        self.vocabulary = nil
        self.explicitTokens = tokens
    }

    init(ids: [Int32], typeIds: [Int32], offsets: [Range<Int>], truncatedTokenCount: Int, sequenceIndices: [Int8],
         vocabulary: TokenStrings) {
        self.ids = ids
        self.typeIds = typeIds
        self.offsets = offsets
        self.truncatedTokenCount = truncatedTokenCount
        self.sequenceIndices = sequenceIndices
        self.vocabulary = vocabulary
        self.explicitTokens = nil
    }
}

/// id → token string for the whole vocabulary (model vocabulary and added tokens).
final class TokenStrings: Sendable {
    let strings: [String?]

    init(strings: [String?]) { self.strings = strings }

    func token(forId id: Int32) -> String? {
        let index = Int(id)
        return index >= 0 && index < strings.count ? strings[index] : nil
    }
}

/// Tokens of one sequence before post-processing.
struct TokenSink {
    var ids: [Int32] = []
    var offsets: [Range<Int>] = []

    @inline(__always)
    mutating func append(_ id: Int32, _ start: Int, _ end: Int) {
        ids.append(id)
        offsets.append(start..<end)
    }

    mutating func removeLast(from count: Int) {
        ids.removeSubrange(count...)
        offsets.removeSubrange(count...)
    }

    mutating func truncate(to count: Int) {
        if ids.count > count { removeLast(from: count) }
    }
}
