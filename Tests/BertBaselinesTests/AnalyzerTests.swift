@testable import BertBaselines
import XCTest

/// The word and char_wb analyzers term for term (and in sklearn's order) against
/// `TfidfVectorizer(...).build_analyzer()` on strings chosen to break them: accents composed and
/// decomposed, ß, İ, final sigma, underscores and digits, superscripts and fractions, Python-only
/// whitespace (U+001F), NBSP and thin spaces, a zero-width space, CJK, emoji, empty texts.
final class AnalyzerTests: XCTestCase {
    private func terms(_ analyzer: Analyzer, _ text: String) -> [String] {
        var out: [String] = []
        analyzer.forEachTerm(text) { out.append($0) }
        return out
    }

    /// Compared by scalars: Swift's == would call "é" and "e\u{301}" equal.
    private func assertSameTerms(_ ours: [String], _ python: [String], _ message: String) {
        XCTAssertEqual(ours.map { Array($0.unicodeScalars) }, python.map { Array($0.unicodeScalars) }, message)
    }

    func testWordAnalyzerMatchesSklearn() {
        let word = Analyzer.word(WordAnalyzer(ngrams: 1...2, lowercase: true))
        for c in Fixtures.parity.analyzers {
            assertSameTerms(terms(word, c.text), c.word, "word terms of \(c.text.debugDescription)")
        }
    }

    func testCharWBAnalyzerMatchesSklearn() {
        let char35 = Analyzer.charWB(CharAnalyzer(ngrams: 3...5, lowercase: true))
        let char13 = Analyzer.charWB(CharAnalyzer(ngrams: 1...3, lowercase: true))
        for c in Fixtures.parity.analyzers {
            assertSameTerms(terms(char35, c.text), c.char_wb_3_5, "char_wb (3, 5) of \(c.text.debugDescription)")
            assertSameTerms(terms(char13, c.text), c.char_wb_1_3, "char_wb (1, 3) of \(c.text.debugDescription)")
        }
    }

    func testTermsAreKeptApartByCodePointsNotCanonicalEquivalence() {
        XCTAssertEqual("é", "e\u{301}", "Swift's String == is canonical equivalence")
        XCTAssertNotEqual(Term("é"), Term("e\u{301}"), "sklearn (a Python dict) keeps them apart")
        XCTAssertEqual(Set([Term("é"), Term("e\u{301}"), Term("é")]).count, 2)
        XCTAssertTrue(Term.precedes("z", "é") && Term.precedes("e\u{301}", "é"), "code-point order")
    }
}
