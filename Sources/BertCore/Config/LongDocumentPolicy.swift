import Foundation

/// How a model reads a text longer than its window: the text is split into overlapping windows
/// (`Tokenizer.encodeWindows`, HF's overflowing tokens with a stride), every window runs through
/// the model as its own sequence of a padding-free batch, and the document's logits aggregate
/// the windows' (`WindowAggregation`). Training with windows writes the policy into the
/// checkpoint's config.json under `long_documents`, so serving reads the text the same way.
public struct LongDocumentPolicy: Sendable, Equatable {
    /// Tokens per window, special tokens included.
    public var window: Int
    /// Content tokens consecutive windows share (HF's `stride`).
    public var overlap: Int
    public var aggregation: WindowAggregation

    /// config.json: `"long_documents": {"window": 512, "stride": 128, "aggregate": "mean"}`.
    public static let configKey = "long_documents"
    /// The usual choice: the model's whole window, a quarter of it shared.
    public static func standard(maxSequenceLength: Int, aggregation: WindowAggregation = .mean) -> LongDocumentPolicy {
        LongDocumentPolicy(window: maxSequenceLength, overlap: maxSequenceLength / 4, aggregation: aggregation)
    }

    public init(window: Int, overlap: Int, aggregation: WindowAggregation) {
        self.window = window
        self.overlap = overlap
        self.aggregation = aggregation
    }

    /// Settings not yet tied to a model: window 0 is the model's maximum, and this overlap a
    /// quarter of the window.
    public static let quarterOverlap = -1

    /// `base` (a model's own policy, or the standard one) with the settings given here: a new
    /// window without a stride shares a quarter of itself, not the base's stride. Unresolved:
    /// call `resolved` for the model.
    public static func overriding(_ base: LongDocumentPolicy?, window: Int?, overlap: Int?,
                                  aggregation: WindowAggregation?) -> LongDocumentPolicy {
        let base = base ?? LongDocumentPolicy(window: 0, overlap: quarterOverlap, aggregation: .mean)
        return LongDocumentPolicy(window: window ?? base.window, overlap: overlap ?? (window == nil ? base.overlap : quarterOverlap),
                                  aggregation: aggregation ?? base.aggregation)
    }

    /// The policy for a model whose sequences hold at most `maxSequenceLength` tokens.
    public func resolved(maxSequenceLength: Int) -> LongDocumentPolicy {
        let w = window == 0 ? maxSequenceLength : window
        return LongDocumentPolicy(window: w, overlap: overlap == Self.quarterOverlap ? w / 4 : overlap, aggregation: aggregation)
    }

    /// A window must fit the model, and the overlap must leave every window new tokens (room is
    /// left for up to 4 special tokens).
    public func validate(maxSequenceLength: Int) throws {
        guard window >= 8, window <= maxSequenceLength else {
            throw BertError(.invalidInput, "the window must be 8…\(maxSequenceLength) tokens (the model's maximum); got \(window)")
        }
        guard overlap >= 0, overlap < window - 4 else {
            throw BertError(.invalidInput, "the window stride (overlap) must be 0…\(window - 5) tokens for a window of \(window); got \(overlap)")
        }
    }

    public var json: [String: Any] {
        ["window": window, "stride": overlap, "aggregate": aggregation.rawValue]
    }

    /// The policy config.json states, or nil.
    static func decode(_ json: [String: Any], maxSequenceLength: Int, source: String) throws -> LongDocumentPolicy? {
        guard let raw = json[configKey], !(raw is NSNull) else { return nil }
        guard let object = raw as? [String: Any] else {
            throw BertError(.invalidConfig, "\(source): \(configKey) must be an object {\"window\", \"stride\", \"aggregate\"}")
        }
        let unknown = Set(object.keys).subtracting(["window", "stride", "aggregate"])
        guard unknown.isEmpty else {
            throw BertError(.invalidConfig, "\(source): \(configKey) has unknown keys \(unknown.sorted()) (it takes window, stride, aggregate)")
        }
        let window = (object["window"] as? NSNumber)?.intValue ?? maxSequenceLength
        let overlap = (object["stride"] as? NSNumber)?.intValue ?? window / 4
        let name = object["aggregate"] as? String ?? WindowAggregation.mean.rawValue
        guard let aggregation = WindowAggregation(rawValue: name) else {
            throw BertError(.invalidConfig, "\(source): \(configKey).aggregate \"\(name)\" is not one of \(WindowAggregation.allCases.map(\.rawValue))")
        }
        let policy = LongDocumentPolicy(window: window, overlap: overlap, aggregation: aggregation)
        do { try policy.validate(maxSequenceLength: maxSequenceLength) } catch let e as BertError {
            throw BertError(.invalidConfig, "\(source): \(configKey): \(e.message)")
        }
        return policy
    }
}
