/// A word of the original text, and the tokens it was cut into: what a person highlights.
public struct WordSpan: Sendable, Equatable {
    public let text: String
    /// Which text: 0, or 1 for the second text of a pair.
    public let sequence: Int
    /// Unicode-scalar offsets into that text (as the tokenizer's offsets), end exclusive.
    public let start: Int
    public let end: Int
    /// The tokens of the word in the encoding.
    public let tokens: Range<Int>
}

/// Tokens merged back into words: a word is a run of tokens each of which starts where the one
/// before ended (WordPiece's `##` pieces, byte-level BPE's pieces of one word); whitespace ends a
/// word, and a token of punctuation only is a word of its own (as BERT's pre-tokenizer splits
/// it). Special tokens belong to no word.
public enum WordSpans {
    /// - Parameters: offsets and sequences as `Encoding.offsets` / `Encoding.sequenceIndices`;
    ///   texts: the text (and the pair) that was encoded.
    public static func merge(offsets: [Range<Int>], sequences: [Int8], texts: [String]) -> [WordSpan] {
        let scalars = texts.map { Array($0.unicodeScalars) }
        func isPunctuation(_ s: Int, _ range: Range<Int>) -> Bool {
            guard !range.isEmpty, range.upperBound <= scalars[s].count else { return false }
            return scalars[s][range].allSatisfy { $0.properties.generalCategory.isPunctuationOrSymbol }
        }
        var words: [WordSpan] = []
        var current: (sequence: Int, start: Int, end: Int, first: Int, punctuation: Bool)?
        func close(upTo token: Int) {
            guard let c = current else { return }
            let end = min(c.end, scalars[c.sequence].count), start = min(c.start, end)
            let text = String(String.UnicodeScalarView(scalars[c.sequence][start..<end]))
            words.append(WordSpan(text: text, sequence: c.sequence, start: start, end: end, tokens: c.first..<token))
            current = nil
        }
        for (t, range) in offsets.enumerated() {
            let s = Int(sequences[t])
            guard s >= 0, s < texts.count else { close(upTo: t); continue }
            let punctuation = isPunctuation(s, range)
            if let c = current, c.sequence == s, range.lowerBound == c.end || range.isEmpty, !punctuation, !c.punctuation {
                current!.end = max(c.end, range.upperBound)
                continue
            }
            close(upTo: t)
            current = (s, range.lowerBound, range.upperBound, t, punctuation)
        }
        close(upTo: offsets.count)
        return words
    }

    /// Per word, the sum of its tokens' values.
    public static func sum(_ values: [Float], over words: [WordSpan]) -> [Float] {
        words.map { $0.tokens.reduce(Float(0)) { $0 + values[$1] } }
    }
}

extension Unicode.GeneralCategory {
    var isPunctuationOrSymbol: Bool {
        switch self {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }
}
