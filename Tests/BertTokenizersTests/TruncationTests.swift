import Foundation
import XCTest
@testable import BertTokenizers

/// `maxLength` counts the special tokens; pairs are cut longest-first exactly as HF's
/// `truncate_encodings` (LongestFirst, stride 0, from the right).
final class TruncationTests: XCTestCase {
    private var tokenizer: Tokenizer!

    override func setUpWithError() throws {
        tokenizer = try Tokenizer(directory: TestPaths.casedWordPiece)
    }

    /// A text of `count` single-token words ("a b c …" → one id each in the cased vocabulary).
    private func words(_ count: Int, _ letter: String = "a") -> String {
        Array(repeating: letter, count: count).joined(separator: " ")
    }

    func testSingleSequence() throws {
        let text = "The movie, good!"
        let full = tokenizer.encode(text)
        XCTAssertEqual(full.tokens, ["[CLS]", "The", "movie", ",", "good", "!", "[SEP]"])
        XCTAssertEqual(full.truncatedTokenCount, 0)
        XCTAssertEqual(tokenizer.encode(text, maxLength: 7).ids, full.ids)
        XCTAssertEqual(tokenizer.encode(text, maxLength: 100).truncatedTokenCount, 0)

        let cut = tokenizer.encode(text, maxLength: 4)
        XCTAssertEqual(cut.ids, [full.ids[0], full.ids[1], full.ids[2], full.ids[6]])
        XCTAssertEqual(cut.tokens, ["[CLS]", "The", "movie", "[SEP]"])
        XCTAssertEqual(cut.offsets, [0..<0, 0..<3, 4..<9, 0..<0])
        XCTAssertEqual(cut.typeIds, [0, 0, 0, 0])
        XCTAssertEqual(cut.truncatedTokenCount, 3)

        // Room for the special tokens only.
        let empty = tokenizer.encode(text, maxLength: 2)
        XCTAssertEqual(empty.tokens, ["[CLS]", "[SEP]"])
        XCTAssertEqual(empty.truncatedTokenCount, 5)
    }

    func testPairTypeIds() throws {
        let encoding = tokenizer.encode("The movie", pair: "was good !")
        XCTAssertEqual(encoding.tokens, ["[CLS]", "The", "movie", "[SEP]", "was", "good", "!", "[SEP]"])
        XCTAssertEqual(encoding.typeIds, [0, 0, 0, 0, 1, 1, 1, 1])
        // Offsets of the second text are into the second text.
        XCTAssertEqual(encoding.offsets, [0..<0, 0..<3, 4..<9, 0..<0, 0..<3, 4..<8, 9..<10, 0..<0])
    }

    func testPairLongestFirst() throws {
        // (first, second, maxLength) → (kept first, kept second), worked out from HF's code:
        // budget = maxLength - 3; if the shorter fits beside the longer, only the longer is cut,
        // else both get half the budget (the odd one to the second-listed length).
        let cases: [(Int, Int, Int, Int, Int)] = [
            (10, 3, 11, 5, 3),   // only the longer (first) is cut
            (3, 10, 11, 3, 5),   // only the longer (second) is cut
            (10, 9, 11, 4, 4),   // both cut to half of 8
            (9, 10, 12, 4, 5),   // half of 9: 4 and 5
            (10, 10, 12, 4, 5),
            (2, 2, 20, 2, 2),    // no truncation
            (6, 6, 3, 0, 0),     // no room at all
        ]
        for (n1, n2, maxLength, keep1, keep2) in cases {
            let encoding = tokenizer.encode(words(n1), pair: words(n2, "b"), maxLength: maxLength)
            let a = tokenizer.encode(words(n1)).ids.dropFirst().dropLast()
            let b = tokenizer.encode(words(n2, "b")).ids.dropFirst().dropLast()
            XCTAssertEqual(a.count, n1)
            let expected = [Int32(2)] + a.prefix(keep1) + [3] + b.prefix(keep2) + [3]
            XCTAssertEqual(encoding.ids, expected, "\(n1)+\(n2) to \(maxLength)")
            XCTAssertEqual(encoding.typeIds, [Int32](repeating: 0, count: keep1 + 2) + [Int32](repeating: 1, count: keep2 + 1))
            XCTAssertEqual(encoding.truncatedTokenCount, n1 - keep1 + n2 - keep2, "\(n1)+\(n2) to \(maxLength)")
        }
    }

    func testRobertaPair() throws {
        let roberta = try Tokenizer(directory: TestPaths.robertaBPE)
        let a = roberta.encode("one two three four five six").ids.dropFirst().dropLast()
        let b = roberta.encode("seven eight").ids.dropFirst().dropLast()
        let pair = roberta.encode("one two three four five six", pair: "seven eight")
        XCTAssertEqual(pair.ids, [0] + a + [2, 2] + b + [2])
        XCTAssertEqual(pair.typeIds, [Int32](repeating: 0, count: pair.ids.count), "RoBERTa type ids are all 0")
        XCTAssertEqual([a.count, b.count], [6, 3])
        // Four special tokens leave a budget of 6: the shorter (3) stays whole, the longer gets
        // max(3, 6 - 3) = 3.
        let cut = roberta.encode("one two three four five six", pair: "seven eight", maxLength: 10)
        XCTAssertEqual(cut.ids, [0] + a.prefix(3) + [2, 2] + b + [2])
        XCTAssertEqual(cut.truncatedTokenCount, 3)
    }
}
