@testable import BertBaselines
import BertCore
import BertTraining
import Foundation
import XCTest

/// Save and load: the same logits bit for bit, the files the format names, and errors (not
/// crashes) for directories that are not baselines or are damaged.
final class DirectoryTests: XCTestCase {
    private func trained(_ name: String) throws -> (LinearBaseline, Parity.Case) {
        let c = try XCTUnwrap(Fixtures.parity.cases.first { $0.name == name })
        return (try LinearBaseline.train(try c.labelled(c.train), validation: try c.labelled(c.test), options: c.baselineOptions), c)
    }

    func testRoundTripGivesIdenticalLogits() throws {
        for name in ["multiclass", "binary", "multilabel", "binary_balanced_word_only"] {
            let (model, c) = try trained(name)
            let dir = try temporaryDirectory(self).appendingPathComponent("model")
            try model.save(to: dir)
            XCTAssertTrue(LinearBaseline.isBaselineDirectory(dir))
            let loaded = try LinearBaseline(directory: dir)
            XCTAssertEqual(loaded.labels, model.labels)
            XCTAssertEqual(loaded.task, model.task)
            XCTAssertEqual(loaded.options, model.options)
            XCTAssertEqual(loaded.report, model.report)
            let texts = c.test.texts + c.train.texts.prefix(20) + ["", "unseen wörds only", "café café café"]
            XCTAssertEqual(loaded.logits(texts), model.logits(texts), "\(name): logits after save and load")
            XCTAssertEqual(loaded.logits(texts).first?.count, name == "multiclass" || name == "multilabel" ? 3 : 2)

            // Saving again replaces the directory whole.
            try loaded.save(to: dir)
            XCTAssertEqual(try LinearBaseline(directory: dir).logits(texts), model.logits(texts))
        }
    }

    func testDirectoryHoldsTheDocumentedFiles() throws {
        let (model, _) = try trained("multiclass")
        let dir = try temporaryDirectory(self).appendingPathComponent("model")
        try model.save(to: dir)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(names, ["baseline.json", "training_report.json", "vocabulary.json", "weights.safetensors"])
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("baseline.json"))) as! [String: Any]
        XCTAssertEqual(manifest["kind"] as? String, "linear-tfidf")
        XCTAssertEqual(manifest["scoring"] as? String, "softmax")
        XCTAssertEqual(manifest["labels"] as? [String], ["food", "sport", "tech"])
        XCTAssertNotNil((manifest["metrics"] as? [String: Any])?["validation"])
        let weights = try SafetensorsFile(path: dir.appendingPathComponent("weights.safetensors").path)
        let (word, char) = model.featureCounts
        XCTAssertEqual(weights.tensors["coef"]?.shape, [3, word + char])
        XCTAssertEqual(weights.tensors["word.idf"]?.dtype, .f64)
        XCTAssertEqual(try weights.integers("word.document_frequency").count, word)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("config.json").path), "not a Hugging Face directory")
    }

    func testNotABaselineAndDamagedDirectoriesAreErrors() throws {
        let root = try temporaryDirectory(self)
        XCTAssertFalse(LinearBaseline.isBaselineDirectory(root))
        XCTAssertThrowsError(try LinearBaseline(directory: root)) { error in
            XCTAssertEqual((error as? TrainingDataError)?.code, .fileNotFound)
        }
        let (model, _) = try trained("binary")
        let dir = root.appendingPathComponent("model")
        try model.save(to: dir)

        // A manifest with a key missing.
        let manifestURL = dir.appendingPathComponent("baseline.json")
        let original = try Data(contentsOf: manifestURL)
        var object = try JSONSerialization.jsonObject(with: original) as! [String: Any]
        object.removeValue(forKey: "scoring")
        try JSONSerialization.data(withJSONObject: object).write(to: manifestURL)
        XCTAssertThrowsError(try LinearBaseline(directory: dir)) { XCTAssertEqual(($0 as? TrainingDataError)?.code, .invalidCheckpoint) }

        // Another kind.
        object = try JSONSerialization.jsonObject(with: original) as! [String: Any]
        object["kind"] = "something-else"
        try JSONSerialization.data(withJSONObject: object).write(to: manifestURL)
        XCTAssertFalse(LinearBaseline.isBaselineDirectory(dir))
        XCTAssertThrowsError(try LinearBaseline(directory: dir)) { XCTAssertEqual(($0 as? TrainingDataError)?.code, .invalidCheckpoint) }
        try original.write(to: manifestURL)

        // A vocabulary that no longer fits the weights.
        let vocabularyURL = dir.appendingPathComponent("vocabulary.json")
        var vocabulary = try JSONSerialization.jsonObject(with: Data(contentsOf: vocabularyURL)) as! [String: Any]
        vocabulary["word"] = Array((vocabulary["word"] as! [String]).dropLast())
        try JSONSerialization.data(withJSONObject: vocabulary).write(to: vocabularyURL)
        XCTAssertThrowsError(try LinearBaseline(directory: dir)) { error in
            XCTAssertEqual((error as? TrainingDataError)?.code, .invalidCheckpoint)
            XCTAssertTrue("\(error)".contains("coef"), "\(error)")
        }

        // Truncated weights.
        try model.save(to: dir)
        let weightsURL = dir.appendingPathComponent("weights.safetensors")
        try Data(contentsOf: weightsURL).prefix(100).write(to: weightsURL)
        XCTAssertThrowsError(try LinearBaseline(directory: dir)) { XCTAssertEqual(($0 as? TrainingDataError)?.code, .invalidCheckpoint) }
    }
}
