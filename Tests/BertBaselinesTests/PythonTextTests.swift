@testable import BertBaselines
import XCTest

/// PythonText against tables Python itself wrote (python_text.json): `\w`, `str.isspace()` and
/// `str.lower()` for every code point Python's Unicode database knows.
final class PythonTextTests: XCTestCase {
    struct Table: Decodable {
        var unicode_version: String
        var assigned: [[UInt32]]
        var word: [[UInt32]]
        var space: [UInt32]
        var lower: [Lower]
        var lower_strings: [[String]]

        struct Lower: Decodable {
            var codePoint: UInt32
            var lowered: [UInt32]
            init(from decoder: Decoder) throws {
                var c = try decoder.unkeyedContainer()
                codePoint = try c.decode(UInt32.self)
                lowered = try c.decode([UInt32].self)
            }
        }
    }

    static let table: Table = try! Fixtures.decode(Table.self, "python_text.json")

    /// Every scalar Python knows (category not Cn), in order.
    private func assignedScalars() -> [Unicode.Scalar] {
        Self.table.assigned.flatMap { $0[0]...$0[1] }.compactMap(Unicode.Scalar.init)
    }

    func testWordCharactersAreThoseOfPythonRe() {
        let word = Set(Self.table.word.flatMap { $0[0]...$0[1] })
        var wrong: [String] = []
        for s in assignedScalars() where PythonText.isWordCharacter(s) != word.contains(s.value) {
            wrong.append(String(format: "U+%04X", s.value))
        }
        print("\\w: \(wrong.count) of \(assignedScalars().count) code points differ from Python \(Self.table.unicode_version): \(wrong.prefix(20))")
        XCTAssertEqual(wrong, [], "\\w differs from Python's re")
    }

    func testWhitespaceIsPythonIsspace() {
        let space = Set(Self.table.space)
        let wrong = assignedScalars().filter { PythonText.isWhitespace($0) != space.contains($0.value) }.map { String(format: "U+%04X", $0.value) }
        XCTAssertEqual(wrong, [], "str.isspace() differs")
        XCTAssertTrue(PythonText.isWhitespace("\u{1F}"), "U+001F is whitespace to Python (bidi class S) though not Unicode White_Space")
        XCTAssertFalse(PythonText.isWhitespace("\u{200B}"), "a zero-width space is not whitespace to Python")
    }

    func testLowercaseIsPythonLower() {
        let mapping = Dictionary(uniqueKeysWithValues: Self.table.lower.map { ($0.codePoint, $0.lowered) })
        var wrong: [String] = []
        for s in assignedScalars() {
            let ours = PythonText.lowercased(String(s)).map(\.value)
            let python = mapping[s.value] ?? [s.value]
            if ours != python { wrong.append(String(format: "U+%04X→%@ (Python %@)", s.value, ours.map { String($0, radix: 16) }.joined(separator: " "), python.map { String($0, radix: 16) }.joined(separator: " "))) }
        }
        print("lower(): \(wrong.count) code points differ: \(wrong.prefix(10))")
        XCTAssertEqual(wrong, [], "str.lower() differs")
        XCTAssertEqual(PythonText.lowercased("İ").map(\.value), [0x69, 0x307], "İ lowers to i + combining dot, two scalars")
    }

    func testFinalSigma() {
        for pair in Self.table.lower_strings {
            XCTAssertEqual(String(String.UnicodeScalarView(PythonText.lowercased(pair[0]))).unicodeScalars.map(\.value),
                           pair[1].unicodeScalars.map(\.value), "lower(\(pair[0]))")
        }
    }
}
