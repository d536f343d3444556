@testable import BertBaselines
import BertTraining
import Foundation
import XCTest

/// The files of Tests/FixtureGenerators/generate_baseline.py, copied into Fixtures/.
enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: url(name)))
    }

    static let parity: Parity = try! decode(Parity.self, "baseline_parity.json")
}

/// baseline_parity.json.
struct Parity: Decodable {
    struct AnalyzerCase: Decodable {
        var text: String
        var word: [String]
        var char_wb_3_5: [String]
        var char_wb_1_3: [String]
    }

    struct Split: Decodable {
        var texts: [String]
        var labels: [Int]?
        var label_sets: [[String]]?
    }

    struct Options: Decodable {
        var word_ngram_range: [Int]
        var char_ngram_range: [Int]?
        var min_df: Int
        var max_features: Int?
        var C: Double
        var class_weight: String?
        var max_iter: Int
        var tol: Double
    }

    struct SparseRow: Decodable {
        var index: Int
        var columns: [Int]
        var values: [Double]
    }

    struct Case: Decodable {
        var name: String
        var task: String
        var labels: [String]
        var options: Options
        var train: Split
        var test: Split
        var word_vocabulary: [String]
        var word_idf: [Double]
        var char_vocabulary: [String]?
        var char_idf: [Double]?
        var features: Int
        var train_rows: [SparseRow]
        var test_rows: [SparseRow]
        var coef: [[Double]]
        var intercept: [Double]
        var objective: [Double]
        var n_iter: [Int]
        var class_weights: [[Double]]
        var test_proba: [[Double]]
        var test_predicted: PredictedLabels
    }

    /// predict(): class ids (single-label) or 0/1 rows (multi-label).
    enum PredictedLabels: Decodable {
        case classes([Int])
        case sets([[Int]])

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let ids = try? c.decode([Int].self) { self = .classes(ids) } else { self = .sets(try c.decode([[Int]].self)) }
        }
    }

    var analyzers: [AnalyzerCase]
    var cases: [Case]
}

extension Parity.Case {
    var isMultiLabel: Bool { task == "multi_label_classification" }

    var baselineOptions: LinearBaselineOptions {
        var o = LinearBaselineOptions()
        o.wordNgrams = options.word_ngram_range[0]...options.word_ngram_range[1]
        o.charNgrams = options.char_ngram_range.map { $0[0]...$0[1] }
        o.minDF = options.min_df
        o.maxFeatures = options.max_features
        o.c = options.C
        o.classWeight = options.class_weight == "balanced" ? .balanced : .none
        o.maxIterations = options.max_iter
        o.tolerance = options.tol
        return o
    }

    func labelled(_ split: Parity.Split) throws -> LabelledDataset {
        let examples = split.texts.indices.map { i in
            Example(text: split.texts[i], label: isMultiLabel ? split.label_sets![i].joined(separator: "|") : labels[split.labels![i]], line: i + 1)
        }
        let labelSet = try LabelSet(names: labels, minimum: isMultiLabel ? 1 : 2)
        return try Dataset(source: name, examples: examples).labelled(with: labelSet, task: isMultiLabel ? .multiLabel : .singleLabel)
    }
}

/// The largest |a − b| and where it is.
func worstDifference(_ a: [Double], _ b: [Double]) -> (value: Double, index: Int) {
    var worst = (value: 0.0, index: -1)
    for i in a.indices where abs(a[i] - b[i]) > worst.value || worst.index < 0 { worst = (abs(a[i] - b[i]), i) }
    return worst
}

/// A fresh empty directory under the temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bertbaselines-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}
