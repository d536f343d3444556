import BertTraining

/// What turns a text into terms: one of scikit-learn's two analyzers used here.
enum Analyzer: Sendable, Equatable {
    case word(WordAnalyzer)
    case charWB(CharAnalyzer)

    func forEachTerm(_ text: String, _ body: (String) -> Void) {
        switch self {
        case .word(let a): a.forEachTerm(text, body)
        case .charWB(let a): a.forEachTerm(text, body)
        }
    }
}

/// The terms of one vectorizer in column order (sklearn's `vocabulary_`, whose columns are the
/// terms sorted by code point), and each term's column.
public struct Vocabulary: Sendable, Equatable {
    public let terms: [String]
    private let columns: [Term: Int32]

    public init(terms: [String]) {
        self.terms = terms
        var columns: [Term: Int32] = [:]
        columns.reserveCapacity(terms.count)
        for (j, t) in terms.enumerated() { columns[Term(t)] = Int32(j) }
        self.columns = columns
    }

    public var count: Int { terms.count }

    public func column(of term: String) -> Int? { columns[Term(term)].map(Int.init) }

    func column(_ term: Term) -> Int32? { columns[term] }
}

/// Raw term counts of documents, as `CountVectorizer._count_vocab` makes them while it grows the
/// vocabulary (ids in order of first appearance), then pruned and sorted by
/// `limitedAndSorted` as `_limit_features` and `_sort_features` do.
struct TermCounts {
    /// Terms by id, in order of first appearance.
    private(set) var terms: [String] = []
    /// Per document: term ids and counts, ids ascending.
    private(set) var counts = SparseMatrix(columns: 0)

    /// Counts every term of every text, adding unseen terms to the vocabulary.
    init(_ texts: [String], analyzer: Analyzer) {
        var ids: [Term: Int32] = [:]
        var rows: [[(column: Int32, value: Double)]] = []
        rows.reserveCapacity(texts.count)
        var scratch = DocumentCounter()
        for text in texts {
            analyzer.forEachTerm(text) { term in
                let key = Term(term)
                let id: Int32
                if let known = ids[key] {
                    id = known
                } else {
                    id = Int32(terms.count)
                    ids[key] = id
                    terms.append(term)
                }
                scratch.add(id)
            }
            rows.append(scratch.drain())
        }
        var matrix = SparseMatrix(columns: terms.count)
        for row in rows { matrix.appendRow(row) }
        counts = matrix
    }

    /// The vocabulary kept (document frequency ≥ minDF; then, if more than maxFeatures remain,
    /// the maxFeatures with the largest total count), sorted by code point, and the counts and
    /// document frequencies re-indexed to it.
    ///
    /// Ties at the maxFeatures cut: sklearn ranks with `(-tfs[mask]).argsort()` over the terms in
    /// code-point order. numpy's default argsort is an unstable introsort, so which of several
    /// equally frequent terms at the cut survive is not specified there; here the earlier term in
    /// code-point order wins, as `argsort(kind="stable")` gives (and as numpy's own default does
    /// whenever it happens to keep ties in order).
    func limitedAndSorted(minDF: Int, maxFeatures: Int?) throws -> (vocabulary: Vocabulary, counts: SparseMatrix, documentFrequency: [Int]) {
        let n = counts.rows
        guard !terms.isEmpty else {
            throw TrainingDataError(.notEnoughData, "the training texts have no terms (empty vocabulary): they are empty or hold no word of two letters or digits")
        }
        guard minDF <= n else {
            throw TrainingDataError(.notEnoughData, "min_df \(minDF) asks for terms in at least \(minDF) texts, but there are only \(n) training texts")
        }
        var df = [Int](repeating: 0, count: terms.count)
        var total = [Double](repeating: 0, count: terms.count)
        for (j, v) in zip(counts.columnIndices, counts.values) {
            df[Int(j)] += 1
            total[Int(j)] += v
        }
        // Candidates in code-point order, then the df mask, then the frequency cut.
        let sorted = terms.indices.sorted { Term.precedes(terms[$0], terms[$1]) }
        var kept = sorted.filter { df[$0] >= minDF }
        if let limit = maxFeatures, kept.count > limit {
            let ranked = kept.indices.sorted { a, b in
                let (ta, tb) = (total[kept[a]], total[kept[b]])
                return ta != tb ? ta > tb : a < b
            }
            let chosen = Set(ranked.prefix(limit))
            kept = kept.indices.filter { chosen.contains($0) }.map { kept[$0] }
        }
        guard !kept.isEmpty else {
            throw TrainingDataError(.notEnoughData, "no term occurs in at least min_df = \(minDF) training texts; lower min_df")
        }
        var newColumn = [Int32](repeating: -1, count: terms.count)
        for (j, id) in kept.enumerated() { newColumn[id] = Int32(j) }
        var remapped = SparseMatrix(columns: kept.count)
        for r in 0..<n {
            let (c, v) = counts.row(r)
            remapped.appendRow(zip(c, v).compactMap { newColumn[Int($0.0)] >= 0 ? (newColumn[Int($0.0)], $0.1) : nil })
        }
        return (Vocabulary(terms: kept.map { terms[$0] }), remapped, kept.map { df[$0] })
    }
}

/// Counts the term ids of one document without a dictionary: a dense count per id and the list
/// of ids touched, cleared after each document.
struct DocumentCounter {
    private var count: [Int32] = []
    private var touched: [Int32] = []

    mutating func add(_ id: Int32) {
        let i = Int(id)
        if i >= count.count { count.append(contentsOf: repeatElement(0, count: max(i + 1 - count.count, count.count))) }
        if count[i] == 0 { touched.append(id) }
        count[i] += 1
    }

    /// The (id, count) pairs of the document, and a clean counter for the next.
    mutating func drain() -> [(column: Int32, value: Double)] {
        let out = touched.map { (column: $0, value: Double(count[Int($0)])) }
        for id in touched { count[Int(id)] = 0 }
        touched.removeAll(keepingCapacity: true)
        return out
    }
}
