import Foundation
import XCTest
@testable import BertTokenizers

/// Offsets are Unicode-scalar ranges into the original text, as HF's offset_mapping in Python.
/// Expected values are worked out from HF's alignment rules: a normalized character keeps the
/// range of the original character it came from; removed characters belong to no token.
final class OffsetsTests: XCTestCase {
    func testUncasedWordPiece() throws {
        let tokenizer = try Tokenizer(directory: try TestPaths.requireMiniLM())
        func check(_ text: String, _ expected: [(String, Range<Int>)], line: UInt = #line) {
            let encoding = tokenizer.encode(text)
            let got = zip(encoding.tokens, encoding.offsets).map { "\($0) \($1)" }
            XCTAssertEqual(got, expected.map { "\($0) \($1)" }, text.debugDescription, line: line)
        }
        check("Hello, World!", [("[CLS]", 0..<0), ("hello", 0..<5), (",", 5..<6), ("world", 7..<12), ("!", 12..<13), ("[SEP]", 0..<0)])
        // A stripped combining accent belongs to no token: HF's `filter` keeps each remaining
        // character's own alignment, so "cafe" ends before the accent (scalar 7).
        check("e\u{301} cafe\u{301}", [("[CLS]", 0..<0), ("e", 0..<1), ("cafe", 3..<7), ("[SEP]", 0..<0)])
        // Precomposed characters: NFD + strip keeps the base letter aligned to the whole character.
        check("Ürün", [("[CLS]", 0..<0), ("ur", 0..<2), ("##un", 2..<4), ("[SEP]", 0..<0)])
        // CJK ideographs are words of their own; a literal [CLS] is the special token, with offsets.
        check("[CLS]中文", [("[CLS]", 0..<0), ("[CLS]", 0..<5), ("中", 5..<6), ("文", 6..<7), ("[SEP]", 0..<0)])
        // An emoji with a skin-tone modifier is one word of two scalars → one [UNK] over both;
        // zero-width and control characters vanish.
        check("hi\u{200B} 👋🏿\u{0}!", [("[CLS]", 0..<0), ("hi", 0..<2), ("[UNK]", 4..<6), ("!", 7..<8), ("[SEP]", 0..<0)])
        // A word over 100 characters is one [UNK] covering it.
        check(String(repeating: "x", count: 101) + " y", [("[CLS]", 0..<0), ("[UNK]", 0..<101), ("y", 102..<103), ("[SEP]", 0..<0)])
    }

    func testCasedWordPieceKeepsAccents() throws {
        let tokenizer = try Tokenizer(directory: TestPaths.casedWordPiece)
        let text = "Ångström é"
        let encoding = tokenizer.encode(text)
        let scalars = Array(text.unicodeScalars)
        // Each piece is exactly the text it covers (cased, no accent stripping).
        for (token, range) in zip(encoding.tokens, encoding.offsets) where token != "[CLS]" && token != "[SEP]" {
            let piece = String(String.UnicodeScalarView(scalars[range]))
            XCTAssertEqual(token.hasPrefix("##") ? String(token.dropFirst(2)) : token, piece)
        }
        XCTAssertEqual(encoding.offsets.dropFirst().first?.lowerBound, 0)
        XCTAssertEqual(encoding.offsets.dropLast().last?.upperBound, 10)
    }

    func testRobertaTrimsSpaces() throws {
        let tokenizer = try Tokenizer(directory: TestPaths.robertaBPE)
        let text = "Hello world,  two  spaces"
        let encoding = tokenizer.encode(text)
        let scalars = Array(text.unicodeScalars)
        let decoded = encoding.tokens.map(byteLevelDecode)
        for (index, (token, range)) in zip(decoded, encoding.offsets).enumerated() where index > 0 && index < decoded.count - 1 {
            let piece = String(String.UnicodeScalarView(scalars[range]))
            let trimmed = String(token.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
            XCTAssertEqual(piece, trimmed, "token \(encoding.tokens[index]) at \(range)")
        }
        // " world" starts after its space; the run "  " before "two" leaves one space as its own
        // token, whose trimmed range is empty (HF's process_offsets).
        XCTAssertEqual(encoding.offsets[0], 0..<0)
        XCTAssertEqual(encoding.offsets.last, 0..<0)
        XCTAssertTrue(encoding.offsets.contains(6..<11))
        XCTAssertTrue(encoding.offsets.contains(13..<13))

        // Multi-byte characters: every byte-level piece of "é" covers the whole character.
        let accent = tokenizer.encode("é")
        for range in accent.offsets.dropFirst().dropLast() { XCTAssertEqual(range, 0..<1) }
    }

    /// Byte-level token string → the text of its bytes.
    private func byteLevelDecode(_ token: String) -> String {
        var bytes: [UInt8] = []
        for scalar in token.unicodeScalars {
            if let byte = ByteLevel.byteToCharacter.firstIndex(of: scalar) { bytes.append(UInt8(byte)) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
