import Foundation
import XCTest

/// A directory that is not a model, a corrupt safetensors file, an unsupported model_type:
/// one clear error line and a non-zero exit, never a crash or a hang.
final class BadModelTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertctl-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func assertOneLineError(_ arguments: [String], mentions text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try BertCtl.run(arguments, timeout: 60)
        XCTAssertNotEqual(result.status, 0, "should fail", file: file, line: line)
        XCTAssertTrue(result.status < 128, "killed by a signal: \(result.status)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one error line, got: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(text), "\(result.stderr) should mention \(text)", file: file, line: line)
    }

    private func modelCopy() throws -> URL {
        let dir = scratch.appendingPathComponent("model")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tinyModelPath("tiny-bert")), to: dir)
        return dir
    }

    func testNotAModelDirectory() throws {
        for command in ["classify", "embed"] {
            try assertOneLineError([command, "--local", scratch.path, "x"], mentions: "config.json")
        }
        try assertOneLineError(["bench", "--local", scratch.path], mentions: "config.json")
        try assertOneLineError(["tokenize", "--local", scratch.path, "x"], mentions: "tokenizer.json")
        try assertOneLineError(["embed", "--local", scratch.appendingPathComponent("absent").path, "x"], mentions: "does not exist")
    }

    func testCorruptSafetensors() throws {
        let dir = try modelCopy()
        try Data(repeating: 0xAB, count: 1000).write(to: dir.appendingPathComponent("model.safetensors"))
        try assertOneLineError(["classify", "--local", dir.path, "x"], mentions: "invalid_safetensors")
    }

    func testUnsupportedModelType() throws {
        let dir = try modelCopy()
        let config = dir.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as! [String: Any]
        json["model_type"] = "t5"
        try JSONSerialization.data(withJSONObject: json).write(to: config)
        try assertOneLineError(["classify", "--local", dir.path, "x"], mentions: "t5")
    }

    func testBadArguments() throws {
        let result = try BertCtl.run(["classify", "--local", tinyModelPath("tiny-bert"), "--top-k", "0", "x"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--top-k"), result.stderr)
    }
}
