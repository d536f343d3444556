import Foundation

/// One text's explanation read back from the `explain` reply (what `ExplanationJSON` writes):
/// the views (terminal, HTML, SVG) draw from this, whether the numbers came from bertd or from
/// this process.
public struct ExplainedText: Decodable, Sendable {
    public struct Token: Decodable, Sendable {
        public let token: String
        public let start: Int
        public let end: Int
        /// 0 or 1 (a pair's second text); -1 for a special token.
        public let sequence: Int
    }

    public struct Word: Decodable, Sendable {
        public let text: String
        public let start: Int
        public let end: Int
        public let sequence: Int
        /// [first, end) token indices.
        public let tokens: [Int]
    }

    public struct Target: Decodable, Sendable {
        public let label: String
        public let logit: Float
        public let baselineLogit: Float
        public let completenessGap: Float
        public let tokens: [Float]
        public let words: [Float]
    }

    public let label: String
    public let score: Float
    public let scores: [String: Float]
    public let tokens: [Token]
    public let words: [Word]
    public let truncated: Bool
    /// A model that reads long documents: the windows the text was read in.
    public let windows: Int?
    // integrated_gradients
    public let steps: Int?
    public let rule: String?
    public let baseline: String?
    public let attributions: [Target]?
    // attention
    public let layers: [Int]?
    public let heads: [Int]?
    /// [layer][head][row][column]
    public let attention: [[[[Float]]]]?
    // rollout
    public let rollout: [[Float]]?
    public let wordScores: [Float]?

    /// Decodes the `explanations` of an explain reply's result.
    public static func decode(result: [String: Any]) throws -> [ExplainedText] {
        let data = try JSONSerialization.data(withJSONObject: result["explanations"] ?? [])
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([ExplainedText].self, from: data)
    }

    /// The first text's words, with the text between them, in order: what a view prints.
    /// Words of a pair's second text follow after a separator.
    public func segments(texts: [String]) -> [Segment] {
        var out: [Segment] = []
        for (s, text) in texts.enumerated() {
            let scalars = Array(text.unicodeScalars)
            if s > 0 { out.append(.separator) }
            var at = 0
            for (w, word) in words.enumerated() where word.sequence == s {
                let start = min(max(word.start, at), scalars.count), end = min(max(word.end, start), scalars.count)
                if start > at { out.append(.text(String(String.UnicodeScalarView(scalars[at..<start])))) }
                out.append(.word(index: w, text: String(String.UnicodeScalarView(scalars[start..<end]))))
                at = end
            }
            if at < scalars.count { out.append(.text(String(String.UnicodeScalarView(scalars[at...])))) }
        }
        return out
    }

    public enum Segment: Equatable {
        case text(String)
        case word(index: Int, text: String)
        case separator
    }
}
