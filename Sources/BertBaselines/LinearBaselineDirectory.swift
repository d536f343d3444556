import BertCore
import BertTraining
import Foundation

/// # A linear baseline's directory
///
/// **Not a Hugging Face model directory**: there is no config.json, tokenizer or
/// model.safetensors, and `transformers` cannot load it. bertd tells the two apart with
/// `LinearBaseline.isBaselineDirectory`. Four files, written together atomically (a temporary
/// sibling directory swapped into place, `AtomicDirectory`):
///
/// - `baseline.json` — what the model is. Every key is required on load:
///   `kind` ("linear-tfidf"), `version` (1), `task` ("single_label_classification" or
///   "multi_label_classification"), `labels` (in id order), `scoring` ("softmax",
///   "binary_logistic" or "one_vs_rest": how the rows of `coef` become logits, see
///   `LinearScores.Scoring`), `options` (`LinearBaselineOptions` under sklearn's parameter
///   names: word_ngram_range, char_ngram_range, min_df, max_features, lowercase, C,
///   class_weight, max_iter, tol), `features` (per block: analyzer "word" or "char_wb",
///   ngram_range, token_pattern, lowercase, sublinear_tf, smooth_idf, norm, terms, and
///   `documents`, the number of training texts the idf was computed on), `class_weights` (per
///   fitted model), `metrics` (train and validation: examples, loss, accuracy, macro_f1,
///   roc_auc).
/// - `vocabulary.json` — `{"word": [term, …], "char": [term, …] or null}`: the terms of each
///   block in column order (sklearn's `vocabulary_` inverted; code-point order). A text's
///   feature row is the word block's columns, then the char block's.
/// - `weights.safetensors` — `coef` F32 [R, D] and `intercept` F32 [R], sklearn's `coef_` and
///   `intercept_` (R = 1 for a binary model, else one row per label; D = word terms + char
///   terms); `word.document_frequency` and `char.document_frequency` I64 [terms];
///   `word.idf` and `char.idf` F64 [terms], ln((1 + documents) / (1 + df)) + 1. The loader
///   recomputes the idf from the document frequencies (the same bits every time) and checks it
///   against the stored one.
/// - `training_report.json` — `LinearBaselineReport`: timings, solver iterations and stop
///   reasons, final objective, train and validation `ClassificationMetrics`. Optional on load.
extension LinearBaseline {
    public static let manifestName = "baseline.json"
    public static let vocabularyName = "vocabulary.json"
    public static let weightsName = "weights.safetensors"
    public static let reportName = "training_report.json"
    public static let formatVersion = 1

    /// true when `url` is a directory holding a linear baseline's baseline.json.
    public static func isBaselineDirectory(_ url: URL) -> Bool {
        guard let data = FileManager.default.contents(atPath: url.appendingPathComponent(manifestName).path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["kind"] as? String == kind
    }

    /// Writes the model's four files into `directory`, replacing it whole (temp dir, then rename).
    public func save(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let manifest = try encoder.encode(Manifest(self))
        let vocabulary = try encoder.encode(VocabularyFile(word: features.word.vocabulary.terms, char: features.char?.vocabulary.terms))
        let report = try self.report.map { try encoder.encode($0) }
        var weights = SafetensorsWriter()
        weights.add("coef", shape: [scores.rows, scores.features], values: scores.coefficientRows)
        weights.add("intercept", shape: [scores.rows], values: scores.bias)
        for (name, block) in [("word", features.word), ("char", features.char)] {
            guard let block else { continue }
            weights.add("\(name).document_frequency", shape: [block.documentFrequency.count], integers: block.documentFrequency.map(Int64.init))
            weights.add("\(name).idf", shape: [block.idf.count], dtype: "F64",
                        bytes: block.idf.withUnsafeBytes { Array($0) })
        }
        weights.metadata = ["format": "bertd-linear-baseline", "kind": Self.kind]
        try AtomicDirectory.write(directory) { temp in
            try AtomicDirectory.writeFile(manifest, to: temp.appendingPathComponent(Self.manifestName))
            try AtomicDirectory.writeFile(vocabulary, to: temp.appendingPathComponent(Self.vocabularyName))
            if let report { try AtomicDirectory.writeFile(report, to: temp.appendingPathComponent(Self.reportName)) }
            do { try weights.write(to: temp.appendingPathComponent(Self.weightsName)) } catch let error as BertError {
                throw TrainingDataError(.ioError, error.message)
            }
        }
    }

    /// Loads a directory `save` wrote. A missing file is `file_not_found`; anything inconsistent
    /// (unknown kind or version, shapes that disagree) is `invalid_checkpoint`, naming every
    /// problem found.
    public convenience init(directory: URL) throws {
        func read(_ name: String) throws -> Data {
            let path = directory.appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TrainingDataError(.fileNotFound, "\(path) does not exist or cannot be read: is \(directory.path) a linear baseline directory?")
            }
            return data
        }
        func invalid(_ message: String) -> TrainingDataError {
            TrainingDataError(.invalidCheckpoint, "\(directory.path): \(message)")
        }
        let manifest: Manifest, vocabulary: VocabularyFile
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: try read(Self.manifestName))
            vocabulary = try JSONDecoder().decode(VocabularyFile.self, from: try read(Self.vocabularyName))
        } catch let error as DecodingError {
            throw invalid("cannot read \(Self.manifestName) or \(Self.vocabularyName): \(error)")
        }
        guard manifest.kind == Self.kind else { throw invalid("kind is \"\(manifest.kind)\", not \"\(Self.kind)\"") }
        guard manifest.version == Self.formatVersion else { throw invalid("format version \(manifest.version); this bertd reads version \(Self.formatVersion)") }
        let weightsPath = directory.appendingPathComponent(Self.weightsName).path
        guard FileManager.default.isReadableFile(atPath: weightsPath) else {
            throw TrainingDataError(.fileNotFound, "\(weightsPath) does not exist or cannot be read")
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: weightsPath) } catch let error as BertError {
            throw invalid(error.message)
        }

        var problems: [String] = []
        let labels = manifest.labels
        let rows = manifest.scoring == .binaryLogistic ? 1 : labels.count
        switch (manifest.task, manifest.scoring) {
        case (.singleLabel, .binaryLogistic) where labels.count == 2, (.singleLabel, .softmax) where labels.count >= 3,
             (.multiLabel, .oneVsRest) where labels.count >= 1:
            break
        default:
            problems.append("scoring \(manifest.scoring.rawValue) does not fit task \(manifest.task.rawValue) with \(labels.count) labels")
        }
        // The features are computed one way only; a file that says otherwise is not ours.
        for (name, block, analyzer) in [("word", manifest.features.word, "word"), ("char", manifest.features.char, "char_wb")] {
            guard let block else { continue }
            if block.analyzer != analyzer || !block.sublinearTF || !block.smoothIDF || block.norm != "l2" {
                problems.append("features.\(name) must be analyzer \(analyzer) with sublinear_tf, smooth_idf and norm l2")
            }
        }
        if (manifest.features.char == nil) != (manifest.options.charNgrams == nil) { problems.append("features.char and options.char_ngram_range disagree") }
        if manifest.features.documents < 1 { problems.append("features.documents must be at least 1") }
        if manifest.options.charNgrams == nil, vocabulary.char != nil { problems.append("a char vocabulary but no char n-grams") }
        if manifest.options.charNgrams != nil, vocabulary.char == nil { problems.append("char n-grams but no char vocabulary") }
        let d = vocabulary.word.count + (vocabulary.char?.count ?? 0)
        func tensor(_ name: String, _ shape: [Int]) -> Bool {
            guard let info = file.tensors[name] else { problems.append("\(Self.weightsName) has no tensor \(name)"); return false }
            guard info.shape == shape else { problems.append("\(name) is \(info.shape), expected \(shape)"); return false }
            return true
        }
        _ = tensor("coef", [rows, d])
        _ = tensor("intercept", [rows])
        for (name, terms) in [("word", vocabulary.word), ("char", vocabulary.char)] {
            guard let terms else { continue }
            _ = tensor("\(name).document_frequency", [terms.count])
            _ = tensor("\(name).idf", [terms.count])
        }
        guard problems.isEmpty else { throw invalid(problems.joined(separator: "; ")) }

        do {
            let (wordAnalyzer, charAnalyzer) = TextFeatures.analyzers(manifest.options)
            func block(_ name: String, _ analyzer: Analyzer, _ terms: [String]) throws -> TfidfVectorizer {
                let vectorizer = TfidfVectorizer(analyzer: analyzer, vocabulary: Vocabulary(terms: terms),
                                                 documentFrequency: try file.integers("\(name).document_frequency"),
                                                 documents: manifest.features.documents)
                let stored = try file.floats("\(name).idf")
                if let j = stored.indices.first(where: { stored[$0] != Float(vectorizer.idf[$0]) }) {
                    throw invalid("\(name).idf[\(j)] is \(stored[j]) but its document frequency gives \(vectorizer.idf[j])")
                }
                if Set(terms.map(Term.init)).count != terms.count { throw invalid("the \(name) vocabulary lists a term twice") }
                return vectorizer
            }
            let word = try block("word", wordAnalyzer, vocabulary.word)
            let char = try charAnalyzer.map { try block("char", $0, vocabulary.char!) }
            let scores = LinearScores(scoring: manifest.scoring, coefficientRows: try file.floats("coef"), intercept: try file.floats("intercept"))
            let report = FileManager.default.contents(atPath: directory.appendingPathComponent(Self.reportName).path)
                .flatMap { try? JSONDecoder().decode(LinearBaselineReport.self, from: $0) }
            var options = manifest.options
            options.threads = LinearBaselineOptions().threads
            self.init(labels: labels, task: manifest.task, options: options, features: TextFeatures(word: word, char: char),
                      scores: scores, report: report)
        } catch let error as BertError {
            throw invalid(error.message)
        }
    }
}

/// vocabulary.json.
struct VocabularyFile: Codable {
    var word: [String]
    var char: [String]?

    enum CodingKeys: String, CodingKey { case word, char }

    init(word: [String], char: [String]?) { (self.word, self.char) = (word, char) }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(word, forKey: .word)
        try c.encode(char, forKey: .char)  // null, not absent, without a char block
    }
}

/// baseline.json.
struct Manifest: Codable {
    struct Block: Codable {
        var analyzer: String
        var ngramRange: [Int]
        var tokenPattern: String?
        var lowercase: Bool
        var sublinearTF = true
        var smoothIDF = true
        var norm = "l2"
        var terms: Int

        enum CodingKeys: String, CodingKey {
            case analyzer, lowercase, norm, terms
            case ngramRange = "ngram_range", tokenPattern = "token_pattern", sublinearTF = "sublinear_tf", smoothIDF = "smooth_idf"
        }
    }

    struct Features: Codable {
        var documents: Int
        var word: Block
        var char: Block?
    }

    struct MetricsSummary: Codable {
        var examples: Int
        var loss: Double
        var accuracy: Double
        var macroF1: Double
        var rocAUC: Double?

        init(_ m: ClassificationMetrics) {
            (examples, loss, accuracy, macroF1, rocAUC) = (m.examples, m.loss, m.accuracy, m.macroF1, m.rocAUC)
        }

        enum CodingKeys: String, CodingKey { case examples, loss, accuracy, macroF1 = "macro_f1", rocAUC = "roc_auc" }
    }

    var kind: String
    var version: Int
    var task: BertTraining.Task
    var labels: [String]
    var scoring: LinearScores.Scoring
    var options: LinearBaselineOptions
    var features: Features
    var classWeights: [[Double]]
    var metrics: [String: MetricsSummary]

    enum CodingKeys: String, CodingKey {
        case kind, version, task, labels, scoring, options, features, metrics
        case classWeights = "class_weights"
    }

    init(_ model: LinearBaseline) {
        kind = LinearBaseline.kind
        version = LinearBaseline.formatVersion
        task = model.task
        labels = model.labels
        scoring = model.scores.scoring
        options = model.options
        let word = model.features.word, char = model.features.char
        features = Features(
            documents: word.documents,
            word: Block(analyzer: "word", ngramRange: [model.options.wordNgrams.lowerBound, model.options.wordNgrams.upperBound],
                        tokenPattern: #"(?u)\b\w\w+\b"#, lowercase: model.options.lowercase, terms: word.vocabulary.count),
            char: char.map { c in
                Block(analyzer: "char_wb", ngramRange: model.options.charNgrams.map { [$0.lowerBound, $0.upperBound] } ?? [],
                      tokenPattern: nil, lowercase: model.options.lowercase, terms: c.vocabulary.count)
            })
        classWeights = model.report?.solver.map(\.classWeights) ?? []
        var metrics: [String: MetricsSummary] = [:]
        if let report = model.report {
            metrics["train"] = MetricsSummary(report.train)
            if let v = report.validation { metrics["validation"] = MetricsSummary(v) }
        }
        self.metrics = metrics
    }
}
