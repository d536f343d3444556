import Foundation

/// One of scikit-learn's `TfidfVectorizer`s with `sublinear_tf=True`, `smooth_idf=True`,
/// `norm="l2"`: a text's row is (1 + ln tf) · idf per term, divided by the row's L2 norm
/// (sklearn/feature_extraction/text.py: `TfidfVectorizer.fit_transform`, `TfidfTransformer`).
/// The idf is a function of the document frequencies and the number of training texts, and is
/// kept as those integers: a saved model recomputes it to the same bits.
struct TfidfVectorizer: Sendable {
    let analyzer: Analyzer
    let vocabulary: Vocabulary
    /// Training texts that contain each term (`_document_frequency`), in column order.
    let documentFrequency: [Int]
    /// Training texts seen by fit.
    let documents: Int
    /// ln((1 + n) / (1 + df)) + 1, in column order.
    let idf: [Double]

    init(analyzer: Analyzer, vocabulary: Vocabulary, documentFrequency: [Int], documents: Int) {
        self.analyzer = analyzer
        self.vocabulary = vocabulary
        self.documentFrequency = documentFrequency
        self.documents = documents
        self.idf = Self.smoothIDF(documentFrequency: documentFrequency, documents: documents)
    }

    /// `TfidfTransformer.fit` with smooth_idf: one is added to n and to every df, as if one more
    /// text held every term once; idf = ln(n / df) + 1 of those, in float64.
    static func smoothIDF(documentFrequency: [Int], documents: Int) -> [Double] {
        let n = Double(documents + 1)
        return documentFrequency.map { Foundation.log(n / Double($0 + 1)) + 1 }
    }

    /// `fit_transform`: learns the vocabulary and idf on `texts` and returns their rows.
    static func fit(_ texts: [String], analyzer: Analyzer, minDF: Int, maxFeatures: Int?) throws -> (TfidfVectorizer, SparseMatrix) {
        let (vocabulary, counts, df) = try TermCounts(texts, analyzer: analyzer).limitedAndSorted(minDF: minDF, maxFeatures: maxFeatures)
        let vectorizer = TfidfVectorizer(analyzer: analyzer, vocabulary: vocabulary, documentFrequency: df, documents: texts.count)
        return (vectorizer, vectorizer.weighted(counts))
    }

    /// `transform`: the rows of new texts; terms outside the vocabulary are ignored.
    func transform(_ texts: [String]) -> SparseMatrix {
        var counts = SparseMatrix(columns: vocabulary.count)
        var counter = DocumentCounter()
        for text in texts {
            analyzer.forEachTerm(text) { term in
                if let j = vocabulary.column(Term(term)) { counter.add(j) }
            }
            counts.appendRow(counter.drain())
        }
        return weighted(counts)
    }

    /// Raw counts (N, V) → sublinear tf · idf, each row scaled to unit L2 norm (a text with no
    /// known term stays a row of zeros, as sklearn's `normalize` leaves it).
    func weighted(_ counts: SparseMatrix) -> SparseMatrix {
        var out = SparseMatrix(columns: counts.columns)
        var row: [(column: Int32, value: Double)] = []
        for r in 0..<counts.rows {
            let (c, v) = counts.row(r)
            row.removeAll(keepingCapacity: true)
            var sumOfSquares = 0.0
            for (j, tf) in zip(c, v) {
                let x = (Foundation.log(tf) + 1) * idf[Int(j)]
                row.append((j, x))
                sumOfSquares += x * x
            }
            let norm = sumOfSquares.squareRoot()
            if norm > 0 { for k in row.indices { row[k].value /= norm } }
            out.appendRow(row)
        }
        return out
    }
}
