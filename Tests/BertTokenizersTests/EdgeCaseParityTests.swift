import Foundation
import XCTest
@testable import BertTokenizers

/// The 36 hard strings of ../shared/fixtures/tokenizer (empty text, long words, combining
/// marks, CJK, emoji, controls, literal special tokens, …): ids and tokens must equal HF's.
final class EdgeCaseParityTests: XCTestCase {
    func testUncasedMiniLM() throws {
        let model = try TestPaths.requireMiniLM()
        try checkEdgeCases(model, TestPaths.fixtures.appendingPathComponent("uncased/edge_cases.jsonl"))
    }

    func testCasedWordPiece() throws {
        try checkEdgeCases(TestPaths.casedWordPiece, TestPaths.casedWordPiece.appendingPathComponent("edge_cases.jsonl"))
    }

    func testRobertaBPE() throws {
        try checkEdgeCases(TestPaths.robertaBPE, TestPaths.robertaBPE.appendingPathComponent("edge_cases.jsonl"))
    }

    /// Both loading paths — tokenizer.json and the slow tokenizer's files — give the same ids.
    /// (Not " <mask>": RobertaTokenizer gives its mask token lstrip, the fixture's tokenizer.json
    /// does not, and HF differs the same way.)
    func testLoadingPathsAgree() throws {
        var directories = [TestPaths.casedWordPiece, TestPaths.robertaBPE]
        if FileManager.default.fileExists(atPath: TestPaths.miniLM.path) { directories.append(TestPaths.miniLM) }
        for directory in directories {
            let withJSON = try Tokenizer(directory: directory)
            let slowFiles = try copyWithoutTokenizerJSON(directory)
            defer { try? FileManager.default.removeItem(at: slowFiles) }
            let withoutJSON = try Tokenizer(directory: slowFiles)
            XCTAssertEqual(withJSON.padTokenId, withoutJSON.padTokenId, directory.lastPathComponent)
            XCTAssertEqual(withJSON.vocabularySize, withoutJSON.vocabularySize, directory.lastPathComponent)
            let edge = try ["uncased/edge_cases.jsonl", "cased-wordpiece/edge_cases.jsonl", "roberta-bpe/edge_cases.jsonl"]
                .flatMap { try readJSONLines(TestPaths.fixtures.appendingPathComponent($0)) }
            let texts = edge.map { $0["text"] as! String } + ["Hello<mask> world", "a [MASK] b", "  two  spaces  "]
            for text in texts {
                let a = withJSON.encode(text), b = withoutJSON.encode(text)
                XCTAssertEqual(a.ids, b.ids, "\(directory.lastPathComponent): \(text.debugDescription)")
                XCTAssertEqual(a.offsets, b.offsets, "\(directory.lastPathComponent): \(text.debugDescription)")
                let pairA = withJSON.encode(text, pair: "second text"), pairB = withoutJSON.encode(text, pair: "second text")
                XCTAssertEqual(pairA.ids, pairB.ids)
                XCTAssertEqual(pairA.typeIds, pairB.typeIds)
            }
        }
    }

    private func checkEdgeCases(_ directory: URL, _ fixture: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let tokenizer = try Tokenizer(directory: directory)
        let cases = try readJSONLines(fixture)
        XCTAssertEqual(cases.count, 36, file: file, line: line)
        var mismatches = 0
        for item in cases {
            let text = item["text"] as! String
            let expectedIds = intArray(item["input_ids"])
            let expectedTokens = item["tokens"] as! [String]
            let encoding = tokenizer.encode(text)
            if encoding.ids != expectedIds || encoding.tokens != expectedTokens {
                mismatches += 1
                XCTFail("\(text.debugDescription)\n  expected \(expectedIds) \(expectedTokens)\n  got      \(encoding.ids) \(encoding.tokens)",
                        file: file, line: line)
            }
            XCTAssertEqual(encoding.typeIds, [Int32](repeating: 0, count: encoding.ids.count), file: file, line: line)
            XCTAssertEqual(encoding.offsets.count, encoding.ids.count, file: file, line: line)
        }
        print("edge cases \(directory.lastPathComponent): \(cases.count) checked, \(mismatches) differ")
    }
}
