/// scikit-learn's `analyzer="char_wb"`: character n-grams that stay inside words. The text is
/// lowercased (`str.lower()`), split on whitespace (`str.split()`), each word padded with one
/// space on each side, and its n-grams taken for every n of the range. A padded word shorter
/// than n yields itself once, and no larger n is tried for it
/// (sklearn/feature_extraction/text.py: `_VectorizerMixin._char_wb_ngrams`).
struct CharAnalyzer: Sendable, Equatable {
    /// `ngram_range`, e.g. (3, 5).
    var ngrams: ClosedRange<Int>
    var lowercase: Bool

    /// The whitespace-separated words of the (lowercased) text, each as " word ".
    func paddedWords(_ text: String) -> [ScalarText] {
        let scalars = lowercase ? PythonText.lowercased(text) : Array(text.unicodeScalars)
        var words: [ScalarText] = []
        var word = ScalarText()
        func flush() {
            guard word.count > 0 else { return }
            word.append(" ")
            words.append(word)
            word.removeAll()
        }
        for s in scalars {
            if PythonText.isWhitespace(s) {
                flush()
            } else {
                if word.count == 0 { word.append(" ") }
                word.append(s)
            }
        }
        flush()
        return words
    }

    /// Every n-gram in sklearn's order: word by word, and within a word by n, left to right.
    func forEachTerm(_ text: String, _ body: (String) -> Void) {
        for w in paddedWords(text) {
            let length = w.count
            for n in ngrams {
                // The loop of `_char_wb_ngrams`: the first slice always, then slide while the
                // window still fits; a word no longer than n is counted once and ends the word.
                var offset = 0
                body(w.string(0..<min(n, length)))
                while offset + n < length {
                    offset += 1
                    body(w.string(offset..<offset + n))
                }
                if offset == 0 { break }
            }
        }
    }
}
