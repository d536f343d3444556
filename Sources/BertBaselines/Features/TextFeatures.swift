import Dispatch

/// scikit-learn's `FeatureUnion([("word", TfidfVectorizer(analyzer="word", …)),
/// ("char", TfidfVectorizer(analyzer="char_wb", …))])`: each vectorizer makes its own
/// L2-normalised block, and a text's row is the word block followed by the char block
/// (sklearn/pipeline.py `FeatureUnion._hstack`). The char block is optional.
struct TextFeatures: Sendable {
    let word: TfidfVectorizer
    let char: TfidfVectorizer?

    var columns: Int { word.vocabulary.count + (char?.vocabulary.count ?? 0) }

    /// The analyzers the options describe, with sklearn's defaults for everything else.
    static func analyzers(_ options: LinearBaselineOptions) -> (word: Analyzer, char: Analyzer?) {
        (.word(WordAnalyzer(ngrams: options.wordNgrams, lowercase: options.lowercase)),
         options.charNgrams.map { .charWB(CharAnalyzer(ngrams: $0, lowercase: options.lowercase)) })
    }

    /// `fit_transform` on the training texts; the two vectorizers fit side by side.
    static func fit(_ texts: [String], options: LinearBaselineOptions) throws -> (TextFeatures, SparseMatrix) {
        let (wordAnalyzer, charAnalyzer) = analyzers(options)
        let analyzersToFit = [wordAnalyzer] + (charAnalyzer.map { [$0] } ?? [])
        var fits = [Result<(TfidfVectorizer, SparseMatrix), Error>?](repeating: nil, count: analyzersToFit.count)
        fits.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: analyzersToFit.count) { i in
                base[i] = Result { try TfidfVectorizer.fit(texts, analyzer: analyzersToFit[i], minDF: options.minDF, maxFeatures: options.maxFeatures) }
            }
        }
        let (word, wordRows) = try fits[0]!.get()
        guard let charFit = try fits.count > 1 ? fits[1]!.get() : nil else {
            return (TextFeatures(word: word, char: nil), wordRows)
        }
        return (TextFeatures(word: word, char: charFit.0), SparseMatrix.hstack(wordRows, charFit.1))
    }

    /// `transform`: rows of new texts, on up to `threads` threads.
    func transform(_ texts: [String], threads: Int = 1) -> SparseMatrix {
        let parts = max(1, min(threads, texts.count / 64))
        guard parts > 1 else { return transformPart(texts[...]) }
        var results = [SparseMatrix?](repeating: nil, count: parts)
        results.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                base[p] = transformPart(texts[(texts.count * p / parts)..<(texts.count * (p + 1) / parts)])
            }
        }
        return SparseMatrix.vstack(results.map { $0! }, columns: columns)
    }

    private func transformPart(_ texts: ArraySlice<String>) -> SparseMatrix {
        let wordRows = word.transform(Array(texts))
        guard let char else { return wordRows }
        return SparseMatrix.hstack(wordRows, char.transform(Array(texts)))
    }
}
