import Foundation
import XCTest

/// `bertctl classify/embed/tokenize --local` end to end: real process, real model.
final class OfflineCommandTests: XCTestCase {
    func testEmbedPrintsOneNormalisedVectorPerText() throws {
        let model = try miniLMPath()
        let result = try BertCtl.run(["embed", "--local", model, "The film was a delight.", "Terrible plot."])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        for line in lines {
            let vector = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [Double]
            XCTAssertEqual(vector.count, 384)
            XCTAssertEqual(vector.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1, accuracy: 1e-4)
        }
    }

    /// Stdin lines, zero-shot labels, JSON keys in the documented order, sensible answers.
    func testZeroShotClassifyFromStdin() throws {
        let model = try miniLMPath()
        let result = try BertCtl.run(["classify", "--local", model, "--labels", "sports, cooking, finance", "--json"],
                                     stdin: "the football team won the championship match\nbake the bread in a hot oven with butter and flour\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("{\"label\":"), lines[0])
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        XCTAssertEqual(first["label"] as? String, "sports")
        XCTAssertEqual(second["label"] as? String, "cooking")
        let scores = first["scores"] as! [String: Double]
        XCTAssertEqual(Set(scores.keys), ["sports", "cooking", "finance"])
        XCTAssertEqual(scores.values.reduce(0, +), 1, accuracy: 1e-4)
        XCTAssertEqual((first["logits"] as! [Double]).count, 3)
    }

    func testClassifyWithHeadUsesConfigLabels() throws {
        let result = try BertCtl.run(["classify", "--local", tinyModelPath("tiny-distilbert"), "--json", "hello world"])
        // tiny-distilbert has a head but no tokenizer files of its own beyond vocab.txt.
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        XCTAssertTrue(["neg", "neu", "pos"].contains(object["label"] as! String))
    }

    func testEmbeddingModelWithoutLabelsIsAClearError() throws {
        let result = try BertCtl.run(["classify", "--local", try miniLMPath(), "hello"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("no classification head"), result.stderr)
        XCTAssertTrue(result.stdout.isEmpty)
    }
}
