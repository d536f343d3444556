@testable import BertTraining
import Foundation
import XCTest

/// Without a named task, the training file decides between single- and multi-label, and says so.
final class TaskDetectionTests: XCTestCase {
    private func file(_ name: String, _ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("detect-\(UUID().uuidString)-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private var detecting: DatasetOptions {
        var o = DatasetOptions()
        o.detectTask = true
        return o
    }

    func testSeveralLabelsInARowMeanMultiLabel() throws {
        let rows = (0..<20).map { "text \($0)\t\(["anger|disgust", "joy", "", "anger"][$0 % 4])" }
        let data = try TrainingData.load(train: try file("multi.tsv", "text\tlabel\n" + rows.joined(separator: "\n") + "\n"), options: detecting)
        XCTAssertEqual(data.detectedTask, .multiLabel)
        XCTAssertEqual(data.train.task, .multiLabel)
        XCTAssertEqual(data.labelSet.names, ["anger", "disgust", "joy"])
    }

    func testJSONListsMeanMultiLabel() throws {
        let rows = (0..<20).map { i in "{\"text\": \"t \(i)\", \"label\": \(i % 2 == 0 ? "[\"a\", \"b\"]" : "[\"a\"]")}" }
        let data = try TrainingData.load(train: try file("multi.jsonl", rows.joined(separator: "\n") + "\n"), options: detecting)
        XCTAssertEqual(data.detectedTask, .multiLabel)
    }

    func testOneLabelPerRowIsSingleLabel() throws {
        let rows = (0..<20).map { "text \($0)\t\(["neg", "pos"][$0 % 2])" }
        let data = try TrainingData.load(train: try file("single.tsv", "text\tlabel\n" + rows.joined(separator: "\n") + "\n"), options: detecting)
        XCTAssertEqual(data.detectedTask, .singleLabel)
        XCTAssertEqual(data.train.task, .singleLabel)
    }

    func testANamedTaskIsNotSecondGuessed() throws {
        let rows = (0..<20).map { "text \($0)\t\(["a|b", "c"][$0 % 2])" }
        let data = try TrainingData.load(train: try file("named.tsv", "text\tlabel\n" + rows.joined(separator: "\n") + "\n"))
        XCTAssertNil(data.detectedTask)
        XCTAssertEqual(data.labelSet.names, ["a|b", "c"], "named single-label: each cell is one class")
    }
}
