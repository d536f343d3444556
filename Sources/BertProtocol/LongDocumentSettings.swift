import Foundation

/// How a `load` (or bertd.toml) asks the daemon to read texts longer than the model takes:
/// overlapping windows of `window` tokens, consecutive ones sharing `stride`, each text's output
/// aggregated from its windows' by `aggregate`. The fields of config.json's `long_documents`; one
/// left out keeps the model's own setting (config.json), else the default: the model's maximum
/// length, a quarter of the window, "mean" (`LongDocumentPolicy.overriding`). The server checks
/// the aggregation's name and the sizes against the model.
///
///     "long_documents": {"window": 256, "stride": 64, "aggregate": "mean"}
public struct LongDocumentSettings: Sendable, Equatable {
    /// Tokens per window, special tokens included; 0: the model's maximum.
    public var window: Int?
    /// Content tokens consecutive windows share (a new window without one: a quarter of it).
    public var stride: Int?
    /// mean, max or weighted.
    public var aggregate: String?

    public init(window: Int? = nil, stride: Int? = nil, aggregate: String? = nil) {
        (self.window, self.stride, self.aggregate) = (window, stride, aggregate)
    }

    static let keys: Set<String> = ["window", "stride", "aggregate"]

    /// The `long_documents` field of a request, or nil when it is absent or null.
    static func parse(_ f: [String: Any], _ key: String) throws -> LongDocumentSettings? {
        guard let raw = f[key], !(raw is NSNull) else { return nil }
        guard let object = raw as? [String: Any] else {
            throw ProtocolError(.badRequest, "\"\(key)\" must be an object {\"window\", \"stride\", \"aggregate\"}")
        }
        if let unknown = Set(object.keys).subtracting(keys).sorted().first {
            throw ProtocolError(.badRequest, "\"\(key)\" has an unknown field \"\(unknown)\" (it takes window, stride, aggregate)")
        }
        let settings = LongDocumentSettings(window: try RequestParser.optional(object, "window", Int.self),
                                            stride: try RequestParser.optional(object, "stride", Int.self),
                                            aggregate: try RequestParser.optional(object, "aggregate", String.self))
        if let w = settings.window, w < 0 { throw ProtocolError(.badRequest, "\"window\" must not be negative") }
        if let s = settings.stride, s < 0 { throw ProtocolError(.badRequest, "\"stride\" must not be negative") }
        return settings
    }

    var json: JSON {
        .object([("window", window.map { .int($0) }), ("stride", stride.map { .int($0) }),
                 ("aggregate", aggregate.map { .string($0) })].compactMap { key, value in value.map { (key, $0) } })
    }
}
