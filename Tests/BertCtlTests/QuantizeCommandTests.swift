import Foundation
import XCTest

/// `bertctl quantize`: a passed gate writes quantization.json and reports both precisions; a
/// failed one is one error line with its code, says what failed and records nothing, unless
/// --force.
final class QuantizeCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertctl-quantize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func testPassedGateIsRecorded() throws {
        let model = try modelCopy()
        let result = try BertCtl.run(["quantize", "--local", model.path, "--validation", try validationFile()], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("label agreement 100.00 %"), result.stdout)
        XCTAssertTrue(result.stdout.contains("fp32  accuracy") && result.stdout.contains("int8  accuracy"), result.stdout)
        let record = try recordJSON(model)
        XCTAssertEqual(record?["passed"] as? Bool, true)
        XCTAssertEqual(record?["precision"] as? String, "int8")
        XCTAssertEqual(record?["examples"] as? Int, 30)
        XCTAssertEqual(record?["agreement"] as? Double, 1)
    }

    func testFailedGateIsRefusedAndRecordsNothing() throws {
        let model = try modelCopy()
        let file = try validationFile()
        try breakInt8(model, validation: file)
        let refused = try BertCtl.run(["quantize", "--local", model.path, "--validation", file], timeout: 120)
        XCTAssertEqual(refused.status, 1)
        let lines = refused.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("[quantization_gate_failed]") && refused.stderr.contains("labels agree on"), refused.stderr)
        XCTAssertNil(try recordJSON(model))

        let forced = try BertCtl.run(["quantize", "--local", model.path, "--validation", file, "--force"], timeout: 120)
        XCTAssertEqual(forced.status, 0, forced.stderr)
        let record = try recordJSON(model)
        XCTAssertEqual(record?["passed"] as? Bool, false)
        XCTAssertEqual(record?["forced"] as? Bool, true)
        XCTAssertEqual(record?["failures"] as? [String], ["agreement"])
    }

    /// A sentence-embedding model has no head: the gate compares zero-shot labels against the
    /// file's labels. With the bounds at their loosest it passes and says how it was checked.
    func testEmbeddingModelIsCheckedZeroShot() throws {
        let model = scratch.appendingPathComponent("minilm")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: try miniLMPath()), to: model)
        let data = try writeAdjectiveData("adjectives.tsv", count: 60, seed: 2, in: scratch)
        let result = try BertCtl.run(["quantize", "--local", model.path, "--validation", data, "--min-agreement", "0", "--max-drop", "100"],
                                     timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("zero-shot against negative, positive"), result.stdout)
        let record = try XCTUnwrap(try recordJSON(model))
        XCTAssertEqual(record["zero_shot_labels"] as? [String], ["negative", "positive"])
        XCTAssertEqual(record["examples"] as? Int, 60)
        let agreement = try XCTUnwrap(record["agreement"] as? Double)
        XCTAssertTrue(result.stdout.contains(String(format: "label agreement %.2f %%", agreement * 100)), result.stdout)
        print("MiniLM zero-shot on the adjective sentences: \(result.stdout)")
    }

    func testArgumentErrors() throws {
        let result = try BertCtl.run(["quantize", "--local", tinyModelPath("tiny-bert"), "--validation", "x.tsv", "--min-agreement", "99"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--min-agreement"), result.stderr)
    }

    // MARK: support

    private func modelCopy() throws -> URL {
        let dir = scratch.appendingPathComponent("model")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tinyModelPath("tiny-bert")), to: dir)
        return dir
    }

    /// 30 short texts labelled neg, neu, pos in turn (tiny-bert's labels; its answers are what
    /// the gate compares, not the labels).
    private func validationFile() throws -> String {
        let words = ["the", "film", "was", "good", "bad", "and", "it", "a", "long", "day"]
        var lines = ["text\tlabel"]
        for i in 0..<30 {
            lines.append((0..<(3 + i % 7)).map { words[($0 * 7 + i * 3) % words.count] }.joined(separator: " ") + "\t" + ["neg", "neu", "pos"][i % 3])
        }
        let url = scratch.appendingPathComponent("validation.tsv")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private func recordJSON(_ model: URL) throws -> [String: Any]? {
        let url = model.appendingPathComponent("quantization.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
    }

    /// A model int8 cannot follow. tiny-bert's random encoder gives nearly the same [CLS] state for
    /// every text: scale the head and centre its bias on one text's logits so that the answer
    /// depends on what the encoder adds. Then in every layer one feed-forward unit always fires at
    /// about 100 (bias +100), an outlier feature: int8's per-token scale of the feed-forward
    /// activations (100 / 127) rounds every other unit to 0, so int8 drops what fp32 adds. (fp32's
    /// answers then lean to one label and int8's, by a margin ten times wider, to another.)
    private func breakInt8(_ model: URL, validation: String) throws {
        let weights = model.appendingPathComponent("model.safetensors")
        try editTensors(weights) { name, _, values in
            if name == "classifier.weight" { values = values.map { $0 * 1000 } }
            if name == "classifier.bias" { values = values.map { _ in 0 } }
            if name.hasSuffix("intermediate.dense.bias") { values[0] = 100 }
        }
        let text = try String(contentsOfFile: validation, encoding: .utf8).split(separator: "\n")[1].split(separator: "\t")[0]
        let classify = try BertCtl.run(["classify", "--local", model.path, "--json", String(text)])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        let logits = (try JSONSerialization.jsonObject(with: Data(classify.stdout.utf8)) as! [String: Any])["logits"] as! [Double]
        try editTensors(weights) { name, _, values in
            if name == "classifier.bias" { values = logits.map { -Float($0) } }
        }
    }

    /// Rewrites the float32 tensors of a safetensors file in place through `edit(name, shape, values)`.
    private func editTensors(_ url: URL, _ edit: (String, [Int], inout [Float]) -> Void) throws {
        var data = try Data(contentsOf: url)
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        for (name, value) in header {
            guard let info = value as? [String: Any], info["dtype"] as? String == "F32", let shape = info["shape"] as? [Int],
                  let offsets = info["data_offsets"] as? [Int] else { continue }
            let range = (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1])
            var values = data.subdata(in: range).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            edit(name, shape, &values)
            data.replaceSubrange(range, with: values.withUnsafeBufferPointer { Data(buffer: $0) })
        }
        try data.write(to: url)
    }
}
