import Foundation
import XCTest
@testable import BertTokenizers

/// BPE merges short pieces by rescanning pair ranks and long ones with a priority queue (so a
/// 100,000-letter "word" is not quadratic); both must give the same tokens.
final class BPEMergeTests: XCTestCase {
    func testScanAndQueueAgree() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.robertaBPE.appendingPathComponent("tokenizer.json"))) as! [String: Any]
        let model = json["model"] as! [String: Any]
        let vocabulary = try TokenizerJSON.vocabEntries(model["vocab"] as! [String: Any], file: "tokenizer.json")
        let bpe = try BytePairEncoding(vocabulary: ByteStringTable(vocabulary.map { (Array($0.0.utf8), $0.1) }),
                                       merges: try TokenizerJSON.merges(model["merges"]), unknownToken: nil)
        let words = ["the", "movie", "was", "great", "awful", "ing", "ly", "é", "🎬", "'s", "x", "qq", "Über", "1999"]
        var generator = SystemRandomNumberGenerator()
        for trial in 0..<500 {
            let count = trial < 250 ? Int.random(in: 2...12, using: &generator) : Int.random(in: 20...200, using: &generator)
            let text = (0..<count).map { _ in words.randomElement(using: &generator)! }.joined()
            var viaScan = BytePairEncoding.Scratch(), viaQueue = BytePairEncoding.Scratch()
            for (k, byte) in text.utf8.enumerated() {
                viaScan.ids.append(bpe.byteId(byte))
                viaScan.starts.append(Int32(k))
            }
            viaQueue = viaScan
            bpe.view.mergeByScan(&viaScan)
            bpe.view.mergeByQueue(&viaQueue)
            XCTAssertEqual(viaScan.ids, viaQueue.ids, text)
            XCTAssertEqual(viaScan.starts, viaQueue.starts, text)
        }
    }

    func testLongPieceIsFast() throws {
        let tokenizer = try Tokenizer(directory: TestPaths.robertaBPE)
        let start = Date()
        let encoding = tokenizer.encode(String(repeating: "abcdefghij", count: 20_000))
        XCTAssertGreaterThan(encoding.ids.count, 2)
        print("200,000-letter word: \(encoding.ids.count) tokens in \(Date().timeIntervalSince(start)) s")
    }
}
