@testable import BertBaselines
import BertTraining
import XCTest

/// The FeatureUnion of word and char_wb TF-IDF vectorizers against scikit-learn on every fixture
/// case: identical vocabularies (column for column, including the max_features cut), idf and
/// feature rows to 1e-6 (they agree to rounding, ~1e-16).
final class FeatureParityTests: XCTestCase {
    func testVocabularyIDFAndRowsMatchSklearn() throws {
        for c in Fixtures.parity.cases {
            let train = try c.labelled(c.train), test = try c.labelled(c.test)
            let (features, x) = try TextFeatures.fit(train.examples.map(\.text), options: c.baselineOptions)

            XCTAssertEqual(features.word.vocabulary.terms.map { Array($0.unicodeScalars) }, c.word_vocabulary.map { Array($0.unicodeScalars) },
                           "\(c.name): word vocabulary")
            XCTAssertEqual(features.char?.vocabulary.terms.map { Array($0.unicodeScalars) }, c.char_vocabulary?.map { Array($0.unicodeScalars) },
                           "\(c.name): char vocabulary")
            XCTAssertEqual(x.columns, c.features, "\(c.name): feature count")
            XCTAssertEqual(x.rows, train.count)

            var worstIDF = 0.0
            if features.word.idf.count == c.word_idf.count { worstIDF = worstDifference(features.word.idf, c.word_idf).value }
            if let char = features.char, let idf = c.char_idf, char.idf.count == idf.count {
                worstIDF = max(worstIDF, worstDifference(char.idf, idf).value)
            }
            XCTAssertLessThan(worstIDF, 1e-6, "\(c.name): idf")

            let testX = features.transform(test.examples.map(\.text))
            var worstValue = 0.0
            for (matrix, rows, split) in [(x, c.train_rows, "train"), (testX, c.test_rows, "test")] {
                for expected in rows {
                    let (columns, values) = matrix.row(expected.index)
                    XCTAssertEqual(columns.map(Int.init), expected.columns, "\(c.name): columns of \(split) row \(expected.index)")
                    guard columns.count == expected.columns.count else { continue }
                    worstValue = max(worstValue, worstDifference(Array(values), expected.values).value)
                }
            }
            XCTAssertLessThan(worstValue, 1e-6, "\(c.name): feature values")
            print(String(format: "%@: %d word + %d char terms identical to sklearn; max |Δidf| %.2e, max |Δx| %.2e over %d rows",
                         c.name, features.word.vocabulary.count, features.char?.vocabulary.count ?? 0, worstIDF, worstValue,
                         c.train_rows.count + c.test_rows.count))
        }
    }

    /// sklearn keeps the max_features terms of largest total count; at a tie the earlier term in
    /// code-point order is kept (numpy's stable argsort order; its default is unspecified).
    func testMaxFeaturesKeepsMostFrequentAndBreaksTiesByTermOrder() throws {
        // Totals: "bb" 3, "aa" 2, "cc" 2, "dd" 2, "ee" 1 (min_df 1).
        let texts = ["bb bb aa cc", "bb aa dd", "cc dd ee"]
        let counts = TermCounts(texts, analyzer: .word(WordAnalyzer(ngrams: 1...1, lowercase: true)))
        let (vocabulary, matrix, df) = try counts.limitedAndSorted(minDF: 1, maxFeatures: 3)
        XCTAssertEqual(vocabulary.terms, ["aa", "bb", "cc"], "bb, then the first two of the tied aa, cc, dd")
        XCTAssertEqual(df, [2, 2, 2])
        XCTAssertEqual(matrix.denseRow(0), [1, 2, 1])
        let (all, _, _) = try counts.limitedAndSorted(minDF: 2, maxFeatures: nil)
        XCTAssertEqual(all.terms, ["aa", "bb", "cc", "dd"], "ee is in one text only")
    }

    func testTextWithoutKnownTermsIsAZeroRow() throws {
        let texts = ["good film", "bad film", "good plot"]
        var options = LinearBaselineOptions()
        options.minDF = 1
        let (features, _) = try TextFeatures.fit(texts, options: options)
        let rows = features.transform(["", "   ", "zzz qqq", "good"])
        XCTAssertEqual(rows.rows, 4)
        XCTAssertEqual(rows.row(0).columns.count, 0)
        XCTAssertEqual(rows.row(1).columns.count, 0)
        let good = rows.row(3).values
        // Two unit-norm blocks side by side: the whole row's squared norm is 2.
        XCTAssertEqual(good.reduce(0) { $0 + $1 * $1 }, 2, accuracy: 1e-12)
    }
}
