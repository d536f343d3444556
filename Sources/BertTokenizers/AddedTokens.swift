/// Added (special) tokens, matched literally in the raw text before normalization, as HF's
/// AddedVocabulary does for tokens with `"normalized": false`: `[CLS]` typed in a text becomes
/// the [CLS] id. The text between matches goes through normalizer, pre-tokenizer and model.
struct AddedToken: Sendable {
    let content: String
    let id: Int32
    /// Absorb whitespace on the left / right of a match (RoBERTa's `<mask>` has lstrip).
    let lstrip: Bool
    let rstrip: Bool
}

struct AddedTokenMatcher: Sendable {
    private struct Pattern: Sendable {
        let bytes: [UInt8]
        let id: Int32
        let lstrip: Bool
        let rstrip: Bool
    }

    /// Longest first, so the first pattern matching at a position is the longest one (HF uses
    /// Aho-Corasick with leftmost-longest matching).
    private let patterns: [Pattern]
    /// Whether a byte can start a pattern: most texts contain none of these bytes.
    private let startsPattern: [Bool]

    init(tokens: [AddedToken]) {
        patterns = tokens.filter { !$0.content.isEmpty }
            .map { Pattern(bytes: Array($0.content.utf8), id: $0.id, lstrip: $0.lstrip, rstrip: $0.rstrip) }
            .sorted { $0.bytes.count > $1.bytes.count }
        var starts = [Bool](repeating: false, count: 256)
        for pattern in patterns { starts[Int(pattern.bytes[0])] = true }
        startsPattern = starts
    }

    var isEmpty: Bool { patterns.isEmpty }

    /// Calls `text(byteStart, byteEnd, scalarStart)` for each stretch of ordinary text and
    /// `token(id, scalarStart, scalarEnd)` for each match, in order.
    @inline(__always)
    func split(_ bytes: UnsafePointer<UInt8>, count: Int,
               text: (Int, Int, Int) -> Void, token: (Int32, Int, Int) -> Void) {
        var segmentStart = 0
        var segmentScalarStart = 0
        var scalarIndex = 0   // scalars before byte `i`
        var i = 0
        while i < count {
            let byte = bytes[i]
            if startsPattern[Int(byte)], let pattern = match(bytes, count: count, at: i) {
                var matchStart = i
                var matchScalarStart = scalarIndex
                var matchEnd = i + pattern.bytes.count
                if pattern.lstrip {
                    while matchStart > segmentStart, let (length, isSpace) = whitespaceBefore(bytes, matchStart),
                          isSpace {
                        matchStart -= length
                        matchScalarStart -= 1
                    }
                }
                var matchScalarEnd = scalarIndex + scalarCount(bytes + i, pattern.bytes.count)
                if pattern.rstrip {
                    while matchEnd < count {
                        let (scalar, length) = decodeUTF8(bytes, at: matchEnd)
                        guard HFUnicode.isWhitespace(Unicode.Scalar(scalar)!) else { break }
                        matchEnd += length
                        matchScalarEnd += 1
                    }
                }
                if matchStart > segmentStart { text(segmentStart, matchStart, segmentScalarStart) }
                token(pattern.id, matchScalarStart, matchScalarEnd)
                i = matchEnd
                scalarIndex = matchScalarEnd
                segmentStart = matchEnd
                segmentScalarStart = matchScalarEnd
                continue
            }
            if byte & 0xC0 != 0x80 { scalarIndex += 1 }
            i += 1
        }
        if count > segmentStart { text(segmentStart, count, segmentScalarStart) }
    }

    @inline(__always)
    private func match(_ bytes: UnsafePointer<UInt8>, count: Int, at start: Int) -> Pattern? {
        for pattern in patterns where pattern.bytes.count <= count - start {
            var equal = true
            for (k, expected) in pattern.bytes.enumerated() where bytes[start + k] != expected {
                equal = false
                break
            }
            if equal { return pattern }
        }
        return nil
    }

    private func scalarCount(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var n = 0
        for k in 0..<count where bytes[k] & 0xC0 != 0x80 { n += 1 }
        return n
    }

    /// The character ending just before byte `end`: its byte length and whether it is whitespace.
    private func whitespaceBefore(_ bytes: UnsafePointer<UInt8>, _ end: Int) -> (Int, Bool)? {
        guard end > 0 else { return nil }
        var start = end - 1
        while start > 0 && bytes[start] & 0xC0 == 0x80 { start -= 1 }
        let (scalar, length) = decodeUTF8(bytes, at: start)
        return (length, HFUnicode.isWhitespace(Unicode.Scalar(scalar)!))
    }
}
