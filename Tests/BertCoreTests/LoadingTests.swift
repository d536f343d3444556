import BertCore
import Foundation
import XCTest

/// Bad model directories and files give one clear error with a stable code, never a crash.
final class LoadingTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-loading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func copyOfTinyBert() throws -> URL {
        let dir = scratch.appendingPathComponent("model")
        try FileManager.default.copyItem(at: Fixtures.url("tiny-bert"), to: dir)
        return dir
    }

    private func expect(_ code: BertError.Code, containing text: String, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body()) { error in
            guard let error = error as? BertError else { return XCTFail("not a BertError: \(error)") }
            XCTAssertEqual(error.code, code, "\(error)")
            XCTAssertTrue(error.message.contains(text), "\"\(error.message)\" should mention \"\(text)\"")
        }
    }

    func testMissingDirectoryAndNonModelDirectory() {
        expect(.fileNotFound, containing: "does not exist") { _ = try ModelLoader.load(directory: scratch.appendingPathComponent("nope")) }
        expect(.notAModel, containing: "no config.json") { _ = try ModelLoader.load(directory: scratch) }
    }

    func testUnsupportedModelType() throws {
        let dir = try copyOfTinyBert()
        let config = dir.appendingPathComponent("config.json")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "\"bert\"", with: "\"gpt2\"")
        try text.write(to: config, atomically: true, encoding: .utf8)
        expect(.unsupportedModel, containing: "gpt2") { _ = try ModelLoader.load(directory: dir) }
    }

    func testMissingConfigKeyIsNamed() throws {
        let dir = try copyOfTinyBert()
        let config = dir.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as! [String: Any]
        json.removeValue(forKey: "vocab_size")
        try JSONSerialization.data(withJSONObject: json).write(to: config)
        expect(.invalidConfig, containing: "vocab_size") { _ = try ModelLoader.load(directory: dir) }
    }

    func testCorruptSafetensors() throws {
        let dir = try copyOfTinyBert()
        let weights = dir.appendingPathComponent("model.safetensors")
        try Data([1, 2, 3]).write(to: weights)
        expect(.invalidSafetensors, containing: "too short") { _ = try ModelLoader.load(directory: dir) }
        var garbage = Data(count: 8)
        garbage[0] = 0xFF; garbage[1] = 0xFF; garbage[2] = 0xFF
        garbage.append(Data(repeating: 0x41, count: 64))
        try garbage.write(to: weights)
        expect(.invalidSafetensors, containing: "header length") { _ = try ModelLoader.load(directory: dir) }
        var notJSON = Data([16, 0, 0, 0, 0, 0, 0, 0])
        notJSON.append(Data("this is not json".utf8))
        try notJSON.write(to: weights)
        expect(.invalidSafetensors, containing: "not a JSON object") { _ = try ModelLoader.load(directory: dir) }
        // A header that points past the end of the file.
        let original = try Data(contentsOf: Fixtures.url("tiny-bert/model.safetensors"))
        try original.prefix(original.count - 100).write(to: weights)
        expect(.invalidSafetensors, containing: "outside the file") { _ = try ModelLoader.load(directory: dir) }
    }

    func testMissingAndMisshapenTensorsAreListedTogether() throws {
        let dir = try copyOfTinyBert()
        let source = try SafetensorsFile(path: dir.appendingPathComponent("model.safetensors").path)
        var writer = SafetensorsWriter()
        for (name, info) in source.tensors where name != "bert.pooler.dense.bias" && name != "classifier.bias" {
            if name == "bert.encoder.layer.1.output.dense.weight" {
                writer.add(name, shape: [64, 32], values: try source.floats(name))
            } else {
                writer.add(name, shape: info.shape, values: try source.floats(name))
            }
        }
        writer.add("cls.predictions.bias", shape: [512], values: Array(repeating: 0, count: 512))
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try ModelLoader.load(directory: dir)) { error in
            let message = "\(error)"
            XCTAssertEqual((error as? BertError)?.code, .weightMismatch)
            XCTAssertTrue(message.contains("missing bert.pooler.dense.bias"), message)
            XCTAssertTrue(message.contains("missing classifier.bias"), message)
            XCTAssertTrue(message.contains("bert.encoder.layer.1.output.dense.weight has shape [64, 32], expected [32, 64]"), message)
            XCTAssertTrue(message.contains("cls.predictions.bias"), message)
        }
    }

    func testPyTorchBinIsExplained() throws {
        let dir = try copyOfTinyBert()
        try FileManager.default.moveItem(at: dir.appendingPathComponent("model.safetensors"), to: dir.appendingPathComponent("pytorch_model.bin"))
        expect(.unsupportedModel, containing: "safetensors") { _ = try ModelLoader.load(directory: dir) }
    }

    /// F16 and BF16 checkpoints load converted to F32; a bare-encoder checkpoint (no `bert.`
    /// prefix, no head) loads as an encoder.
    func testHalfPrecisionAndBareEncoderNames() throws {
        let dir = try copyOfTinyBert()
        let source = try SafetensorsFile(path: dir.appendingPathComponent("model.safetensors").path)
        var writer = SafetensorsWriter()
        var expected: [String: [Float]] = [:]
        for (index, (name, info)) in source.tensors.sorted(by: { $0.key < $1.key }).enumerated() where name.hasPrefix("bert.") {
            let values = try source.floats(name)
            let bare = String(name.dropFirst("bert.".count))
            if index % 2 == 0 {
                let halves = values.map { Float16($0) }
                expected[name] = halves.map { Float($0) }
                writer.add(bare, shape: info.shape, dtype: "F16", bytes: halves.flatMap { h in withUnsafeBytes(of: h.bitPattern.littleEndian, Array.init) })
            } else {
                let brains = values.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) }
                expected[name] = brains.map { Float(bitPattern: UInt32($0) << 16) }
                writer.add(bare, shape: info.shape, dtype: "BF16", bytes: brains.flatMap { b in withUnsafeBytes(of: b.littleEndian, Array.init) })
            }
        }
        writer.add("embeddings.position_ids", shape: [1, 64], integers: (0..<64).map(Int64.init))
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
        let config = dir.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as! [String: Any]
        json["architectures"] = ["BertModel"]
        try JSONSerialization.data(withJSONObject: json).write(to: config)

        let model = try ModelLoader.load(directory: dir)
        XCTAssertFalse(model.hasClassificationHead)
        for (name, values) in expected {
            XCTAssertEqual(model.parameters.values(named: name), values, name)
        }
        let embeddings = try model.embed(TokenBatch(sequences: [[101, 7, 9, 102]]), workspace: model.makeWorkspace())
        let norm = embeddings[0].reduce(0) { $0 + $1 * $1 }.squareRoot()
        XCTAssertEqual(norm, 1, accuracy: 1e-5)
        XCTAssertThrowsError(try model.classify(TokenBatch(sequences: [[101, 102]]), workspace: model.makeWorkspace()))
    }

    func testSafetensorsRoundTripAndAtomicWrite() throws {
        var writer = SafetensorsWriter()
        writer.add("a", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        writer.add("ids", shape: [2], integers: [7, -8])
        writer.metadata["format"] = "pt"
        let url = scratch.appendingPathComponent("t.safetensors")
        try writer.write(to: url)
        let file = try SafetensorsFile(path: url.path)
        XCTAssertEqual(try file.floats("a"), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(file.tensors["a"]?.shape, [2, 3])
        XCTAssertEqual(try file.integers("ids"), [7, -8])
        XCTAssertEqual(file.metadata["format"], "pt")
        XCTAssertThrowsError(try file.floats("ids"))
        XCTAssertThrowsError(try file.floats("nope"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    /// Fine-tuning puts a head of the requested labels on a model: kept when the checkpoint's has
    /// that size, else initialised as Hugging Face does (N(0, initializer_range), zero biases).
    func testNewHeadIsKeptOrInitialised() throws {
        let same = try ModelLoader.load(directory: Fixtures.url("tiny-bert"), newHead: .init(labels: ["a", "b", "c"]))
        let original = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        XCTAssertEqual(same.labels, ["a", "b", "c"])
        XCTAssertEqual(same.parameters.values(named: "classifier.weight"), original.parameters.values(named: "classifier.weight"))

        let fresh = try ModelLoader.load(directory: Fixtures.url("tiny-bert"), newHead: .init(labels: ["no", "yes"], seed: 7))
        XCTAssertEqual(fresh.labels, ["no", "yes"])
        XCTAssertEqual(fresh.config.architectures, ["BertForSequenceClassification"])
        let w = try XCTUnwrap(fresh.parameters.values(named: "classifier.weight"))
        XCTAssertEqual(w.count, 2 * 32)
        let mean = w.reduce(0, +) / Float(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.006)
        XCTAssertEqual(fresh.parameters.values(named: "classifier.bias"), [0, 0])
        // The encoder is the checkpoint's, untouched.
        XCTAssertEqual(fresh.parameters.values(named: "bert.pooler.dense.weight"), original.parameters.values(named: "bert.pooler.dense.weight"))
        let again = try ModelLoader.load(directory: Fixtures.url("tiny-bert"), newHead: .init(labels: ["no", "yes"], seed: 7))
        XCTAssertEqual(again.parameters.values(named: "classifier.weight"), w, "same seed, same head")
        XCTAssertEqual(try fresh.classify(TokenBatch(sequences: [[101, 7, 102]]), workspace: fresh.makeWorkspace())[0].count, 2)
    }
}
