import XCTest
@testable import BertTokenizers

/// Character rules that the fixtures do not reach, pinned to HF's sources: BertNormalizer's
/// control/whitespace/CJK tests and the `unicode_categories` 0.1.1 tables (Unicode 9.0).
final class UnicodeRulesTests: XCTestCase {
    func testControlCharacters() {
        for scalar: Unicode.Scalar in ["\u{0}", "\u{7}", "\u{7F}", "\u{85}", "\u{200B}", "\u{FEFF}", "\u{AD}", "\u{E000}", "\u{F0001}"] {
            XCTAssertTrue(HFUnicode.isControl(scalar), "U+\(String(scalar.value, radix: 16))")
        }
        // Tab, newline and CR are whitespace, not controls; unassigned code points (Cn) are kept.
        for scalar: Unicode.Scalar in ["\t", "\n", "\r", "a", "\u{0378}"] {
            XCTAssertFalse(HFUnicode.isControl(scalar), "U+\(String(scalar.value, radix: 16))")
        }
    }

    func testPunctuationFollowsUnicode9() {
        for scalar: Unicode.Scalar in ["!", "$", "+", "^", "`", "~", "¿", "—", "、", "\u{2E3B}"] {
            XCTAssertTrue(HFUnicode.isBertPunctuation(scalar), "U+\(String(scalar.value, radix: 16))")
        }
        // U+2E45 (Po) arrived in Unicode 10: not in unicode_categories' tables, so not split off.
        for scalar: Unicode.Scalar in ["a", "1", "€", "©", "\u{2E45}"] {
            XCTAssertFalse(HFUnicode.isBertPunctuation(scalar), "U+\(String(scalar.value, radix: 16))")
        }
    }

    func testChineseRangesAreHFs() {
        XCTAssertTrue(HFUnicode.isChineseCharacter(0x4E2D))
        XCTAssertTrue(HFUnicode.isChineseCharacter(0xF900))
        XCTAssertFalse(HFUnicode.isChineseCharacter(0x3042))   // Hiragana
        XCTAssertFalse(HFUnicode.isChineseCharacter(0xAC00))   // Hangul
        XCTAssertFalse(HFUnicode.isChineseCharacter(0x2B820))  // HF's range starts at 0x2B920
    }

    func testNormalizerSteps() {
        let uncased = BertNormalizer(cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true)
        var result = BertNormalizer.Result()
        uncased.normalize("\u{130}", into: &result)  // İ: NFD "I" + U+0307, the mark stripped, then lowercased
        XCTAssertEqual(result.scalars, [0x69])
        uncased.normalize("\u{3000}", into: &result)  // ideographic space → " "
        XCTAssertEqual(result.scalars, [0x20])
        uncased.normalize("\u{D55C}", into: &result)  // Hangul syllable → its conjoining jamo
        XCTAssertEqual(result.scalars, [0x1112, 0x1161, 0x11AB])
        let cased = BertNormalizer(cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false)
        cased.normalize("\u{C5}", into: &result)
        XCTAssertEqual(result.scalars, [0xC5])
        cased.normalize("\u{FFFD}", into: &result)
        XCTAssertEqual(result.scalars, [])
    }
}
