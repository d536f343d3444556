import Foundation
import XCTest
@testable import BertTokenizers

final class LoaderTests: XCTestCase {
    func testVocabularyFacts() throws {
        let cased = try Tokenizer(directory: TestPaths.casedWordPiece)
        XCTAssertEqual(cased.vocabularySize, 8000)
        XCTAssertEqual(cased.padTokenId, 0)
        XCTAssertEqual(cased.token(forId: 2), "[CLS]")
        XCTAssertNil(cased.token(forId: 8000))
        let roberta = try Tokenizer(directory: TestPaths.robertaBPE)
        XCTAssertEqual(roberta.vocabularySize, 8000)
        XCTAssertEqual(roberta.padTokenId, 1)
        XCTAssertEqual(roberta.token(forId: 0), "<s>")
        if FileManager.default.fileExists(atPath: TestPaths.miniLM.path) {
            let uncased = try Tokenizer(directory: TestPaths.miniLM)
            XCTAssertEqual(uncased.vocabularySize, 30522)
            XCTAssertEqual(uncased.padTokenId, 0)
            XCTAssertEqual(uncased.token(forId: 101), "[CLS]")
        }
    }

    func testUnsupportedStagesAreErrorsNamingTheType() throws {
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("Lowercase", { $0["normalizer"] = ["type": "Lowercase"] }),
            ("Whitespace", { $0["pre_tokenizer"] = ["type": "Whitespace"] }),
            ("Unigram", { json in var model = json["model"] as! [String: Any]; model["type"] = "Unigram"; json["model"] = model }),
            ("ByteLevel", { $0["post_processor"] = ["type": "ByteLevel"] }),
        ]
        for (name, change) in cases {
            let directory = try temporaryCopy(TestPaths.casedWordPiece, change: change)
            defer { try? FileManager.default.removeItem(at: directory) }
            XCTAssertThrowsError(try Tokenizer(directory: directory), name) { error in
                let error = error as! TokenizerError
                XCTAssertEqual(error.code, "unsupported_tokenizer")
                XCTAssertTrue(error.description.contains(name), error.description)
            }
        }
    }

    func testMissingAndInvalidFiles() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try Tokenizer(directory: empty)) { XCTAssertEqual(($0 as! TokenizerError).code, "missing_file") }
        try Data("{not json".utf8).write(to: empty.appendingPathComponent("tokenizer.json"))
        XCTAssertThrowsError(try Tokenizer(directory: empty)) { XCTAssertEqual(($0 as! TokenizerError).code, "invalid_file") }
        // A vocab.txt whose tokenizer_config names a class this library does not implement.
        try FileManager.default.removeItem(at: empty.appendingPathComponent("tokenizer.json"))
        try Data("[UNK]\n".utf8).write(to: empty.appendingPathComponent("vocab.txt"))
        try Data(#"{"tokenizer_class": "XLNetTokenizer"}"#.utf8).write(to: empty.appendingPathComponent("tokenizer_config.json"))
        XCTAssertThrowsError(try Tokenizer(directory: empty)) {
            XCTAssertEqual(($0 as! TokenizerError).code, "unsupported_tokenizer")
            XCTAssertTrue(($0 as! TokenizerError).description.contains("XLNetTokenizer"))
        }
    }

    /// transformers' BertTokenizerFast re-applies tokenizer_config.json's do_lower_case to the
    /// tokenizer.json normalizer when they differ.
    func testTokenizerConfigOverridesNormalizer() throws {
        let directory = try temporaryCopy(TestPaths.casedWordPiece, change: { _ in })
        defer { try? FileManager.default.removeItem(at: directory) }
        XCTAssertEqual(try Tokenizer(directory: directory).encode("The Movie").tokens, ["[CLS]", "The", "Movie", "[SEP]"])
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["do_lower_case"] = true
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        XCTAssertEqual(try Tokenizer(directory: directory).encode("The Movie").tokens, ["[CLS]", "the", "movie", "[SEP]"])
    }

    private func temporaryCopy(_ directory: URL, change: (inout [String: Any]) -> Void) throws -> URL {
        let target = try copyWithoutTokenizerJSON(directory)
        let data = try Data(contentsOf: directory.appendingPathComponent("tokenizer.json"))
        var json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        change(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: target.appendingPathComponent("tokenizer.json"))
        return target
    }
}
