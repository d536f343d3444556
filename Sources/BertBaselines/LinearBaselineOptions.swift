import BertTraining

/// The settings of a linear baseline, named after the scikit-learn parameters they set. The
/// equivalent scikit-learn model (what the parity tests fit) is
///
///     make_pipeline(
///         FeatureUnion([
///             ("word", TfidfVectorizer(analyzer="word", ngram_range=wordNgrams, min_df=minDF,
///                                      max_features=maxFeatures, sublinear_tf=True, lowercase=lowercase)),
///             ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=charNgrams, min_df=minDF,
///                                      max_features=maxFeatures, sublinear_tf=True, lowercase=lowercase)),
///         ]),
///         LogisticRegression(C=c, class_weight=classWeight, max_iter=maxIterations, tol=tolerance),
///     )
///
/// wrapped in `OneVsRestClassifier` for multi-label data.
public struct LinearBaselineOptions: Sendable, Equatable, Codable {
    /// Word n-grams (`ngram_range` of the word vectorizer).
    public var wordNgrams: ClosedRange<Int> = 1...2
    /// Character n-grams within words (`char_wb`); nil leaves the char block out.
    public var charNgrams: ClosedRange<Int>? = 3...5
    /// A term is kept when at least this many training texts contain it (`min_df`, an integer).
    public var minDF = 2
    /// At most this many terms *per vectorizer*, the most frequent (`max_features` of each
    /// `TfidfVectorizer`); nil keeps every term that passes `minDF`.
    public var maxFeatures: Int? = 200_000
    /// `lowercase` (Python's `str.lower()`).
    public var lowercase = true
    /// The inverse regularisation strength, sklearn's `C`: larger fits the training data closer.
    public var c: Double = 1
    /// sklearn's `class_weight`: none, or "balanced".
    public var classWeight: ClassWeighting = .none
    /// L-BFGS iterations at most (`max_iter`).
    public var maxIterations = 1000
    /// Stop when every gradient component is at most this (`tol`, scipy's `gtol`). sklearn's
    /// default 1e-4 can stop well before the optimum on large data, at a point that depends on
    /// rounding (on SST-2 it and sklearn stop 1e-3 apart in loss and disagree on 1 % of dev
    /// labels); 1e-6 or below reaches the optimum, where the two agree.
    public var tolerance = 1e-4
    /// Threads for features and the objective (not saved with the model).
    public var threads = 2

    public init() {}

    /// Throws `invalid_option` naming the first setting out of range.
    public func validate() throws {
        func fail(_ message: String) -> TrainingDataError { TrainingDataError(.invalidOption, message) }
        guard wordNgrams.lowerBound >= 1 else { throw fail("word n-grams must start at 1 or more (got \(wordNgrams))") }
        if let charNgrams, charNgrams.lowerBound < 1 { throw fail("char n-grams must start at 1 or more (got \(charNgrams))") }
        guard minDF >= 1 else { throw fail("min_df must be at least 1 (got \(minDF))") }
        if let maxFeatures, maxFeatures < 1 { throw fail("max_features must be at least 1 (got \(maxFeatures))") }
        guard c > 0, c.isFinite else { throw fail("C must be a positive number (got \(c))") }
        guard maxIterations >= 1 else { throw fail("max_iter must be at least 1 (got \(maxIterations))") }
        guard tolerance > 0, tolerance.isFinite else { throw fail("tol must be a positive number (got \(tolerance))") }
        guard threads >= 1 else { throw fail("threads must be at least 1 (got \(threads))") }
    }

    enum CodingKeys: String, CodingKey {
        case wordNgrams = "word_ngram_range", charNgrams = "char_ngram_range", minDF = "min_df"
        case maxFeatures = "max_features", lowercase, c = "C", classWeight = "class_weight"
        case maxIterations = "max_iter", tolerance = "tol"
    }

    /// Every key must be present (null where a setting is off): a missing key is an error.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let word = try c.decode([Int].self, forKey: .wordNgrams)
        let char = try c.decodeNil(forKey: .charNgrams) ? nil : try c.decode([Int].self, forKey: .charNgrams)
        func range(_ pair: [Int], _ key: CodingKeys) throws -> ClosedRange<Int> {
            guard pair.count == 2, pair[0] >= 1, pair[0] <= pair[1] else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "an n-gram range is [min, max] with 1 ≤ min ≤ max")
            }
            return pair[0]...pair[1]
        }
        wordNgrams = try range(word, .wordNgrams)
        charNgrams = try char.map { try range($0, .charNgrams) }
        minDF = try c.decode(Int.self, forKey: .minDF)
        maxFeatures = try c.decodeNil(forKey: .maxFeatures) ? nil : try c.decode(Int.self, forKey: .maxFeatures)
        lowercase = try c.decode(Bool.self, forKey: .lowercase)
        self.c = try c.decode(Double.self, forKey: .c)
        classWeight = try c.decode(ClassWeighting.self, forKey: .classWeight)
        maxIterations = try c.decode(Int.self, forKey: .maxIterations)
        tolerance = try c.decode(Double.self, forKey: .tolerance)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([wordNgrams.lowerBound, wordNgrams.upperBound], forKey: .wordNgrams)
        if let charNgrams { try c.encode([charNgrams.lowerBound, charNgrams.upperBound], forKey: .charNgrams) } else { try c.encodeNil(forKey: .charNgrams) }
        try c.encode(minDF, forKey: .minDF)
        if let maxFeatures { try c.encode(maxFeatures, forKey: .maxFeatures) } else { try c.encodeNil(forKey: .maxFeatures) }
        try c.encode(lowercase, forKey: .lowercase)
        try c.encode(self.c, forKey: .c)
        try c.encode(classWeight, forKey: .classWeight)
        try c.encode(maxIterations, forKey: .maxIterations)
        try c.encode(tolerance, forKey: .tolerance)
    }
}
