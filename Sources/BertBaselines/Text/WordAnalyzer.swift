/// scikit-learn's `analyzer="word"` with its default `token_pattern=r"(?u)\b\w\w+\b"`:
/// `str.lower()`, then the tokens, then the word n-grams joined by one space
/// (sklearn/feature_extraction/text.py: `_VectorizerMixin.build_analyzer`, `_word_ngrams`).
struct WordAnalyzer: Sendable, Equatable {
    /// `ngram_range`: (1, 2) gives every token, then every pair of neighbours.
    var ngrams: ClosedRange<Int>
    var lowercase: Bool

    /// `(?u)\b\w\w+\b` found left to right. `\w\w+` is greedy and a match can only start at a
    /// `\b`, so the tokens are exactly the maximal runs of word characters that are at least two
    /// scalars long; a lone word character (the "a" of "a cat") is no token.
    func tokens(_ text: String) -> [String] {
        let scalars = lowercase ? PythonText.lowercased(text) : Array(text.unicodeScalars)
        var tokens: [String] = []
        var run = ScalarText()
        func flush() {
            if run.count >= 2 { tokens.append(run.string(0..<run.count)) }
            run.removeAll()
        }
        for s in scalars {
            if PythonText.isWordCharacter(s) { run.append(s) } else if run.count > 0 { flush() }
        }
        flush()
        return tokens
    }

    /// Every term of the text in sklearn's order: the n-grams of the smallest n first (the
    /// tokens themselves when n = 1), each n left to right. A term repeats as often as it occurs.
    func forEachTerm(_ text: String, _ body: (String) -> Void) {
        let tokens = tokens(text)
        var n = ngrams.lowerBound
        if n == 1 {
            for t in tokens { body(t) }
            n = 2
        }
        guard n <= ngrams.upperBound else { return }
        for width in n...ngrams.upperBound where width <= tokens.count {
            for start in 0...(tokens.count - width) {
                body(tokens[start..<start + width].joined(separator: " "))
            }
        }
    }
}
