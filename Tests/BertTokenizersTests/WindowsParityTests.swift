import Foundation
import XCTest
@testable import BertTokenizers

/// Overflowing windows (long documents) against Hugging Face's `return_overflowing_tokens=True`
/// with a stride: ids, type ids and offsets of every window, single texts and pairs
/// (`only_first`). Fixture: Tests/FixtureGenerators/generate_windows.py.
final class WindowsParityTests: XCTestCase {
    func testWindowsMatchHuggingFace() throws {
        let cases = try readJSONLines(TestPaths.fixtures.appendingPathComponent("windows/windows.jsonl"))
        XCTAssertGreaterThan(cases.count, 100)
        var tokenizers: [String: Tokenizer] = [
            "roberta-bpe": try Tokenizer(directory: TestPaths.robertaBPE),
        ]
        if FileManager.default.fileExists(atPath: TestPaths.miniLM.path) {
            tokenizers["uncased"] = try Tokenizer(directory: TestPaths.requireMiniLM())
        } else {
            _ = try TestPaths.requireMiniLM()  // a failure in CI; a skip elsewhere
        }
        var checked = 0, multiWindow = 0
        for c in cases {
            guard let tokenizer = tokenizers[c["tokenizer"] as! String] else { continue }
            let (text, pair) = (c["text"] as! String, c["pair"] as? String)
            let (maxLength, stride) = (c["max_length"] as! Int, c["stride"] as! Int)
            let context = "\(c["tokenizer"]!) L=\(maxLength) S=\(stride) pair=\(pair ?? "-") text=\(text.prefix(30))"
            let windows = tokenizer.encodeWindows(text, pair: pair, maxLength: maxLength, overlap: stride)
            guard let expected = c["windows"] as? [[String: Any]] else {
                XCTAssertNil(windows, context)
                continue
            }
            guard let windows else { XCTFail("no windows: \(context)"); continue }
            XCTAssertEqual(windows.count, expected.count, context)
            for (w, e) in zip(windows, expected) {
                XCTAssertEqual(w.ids.map(Int.init), e["input_ids"] as! [Int], context)
                XCTAssertEqual(w.typeIds.map(Int.init), e["token_type_ids"] as! [Int], context)
                let offsets = (e["offsets"] as! [[Int]]).map { $0[0]..<$0[1] }
                XCTAssertEqual(w.offsets, offsets, context)
                XCTAssertLessThanOrEqual(w.ids.count, maxLength)
            }
            if expected.count > 1 { multiWindow += 1 }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 50)
        XCTAssertGreaterThan(multiWindow, 30)
    }

    /// The overlap must leave each window something new; a pair must leave room for the text.
    func testImpossibleWindowsAreRefused() throws {
        let tokenizer = try Tokenizer(directory: TestPaths.casedWordPiece)
        XCTAssertNil(tokenizer.encodeWindows("a b c d e f", maxLength: 6, overlap: 4))
        XCTAssertNil(tokenizer.encodeWindows("a b c d e f", maxLength: 6, overlap: -1))
        XCTAssertNil(tokenizer.encodeWindows("a b c", pair: "a b c d e f g", maxLength: 10, overlap: 0))
        XCTAssertEqual(tokenizer.encodeWindows("a b c d e f", maxLength: 6, overlap: 3)?.count, 3)
    }
}
