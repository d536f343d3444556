import Foundation
import XCTest

/// `bertctl train --method baseline-linear` end to end: a TF-IDF + logistic-regression model
/// trained in this process in well under a second, saved as a baseline directory that `eval`
/// and `classify --local` read like any model; what it cannot do is refused clearly.
final class BaselineCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertctl-baseline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func writeData(_ name: String, count: Int, seed: Int) throws -> String {
        try writeAdjectiveData(name, count: count, seed: seed, in: scratch)
    }

    func testTrainEvaluateAndClassify() throws {
        let train = try writeData("train.tsv", count: 120, seed: 1)
        let test = try writeData("test.tsv", count: 40, seed: 4)
        let out = scratch.appendingPathComponent("baseline").path
        let trained = try BertCtl.run(["train", "--local", "--method", "baseline-linear", "--train", train, "--out", out, "--c", "10",
                                       "--min-df", "1", "--json"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["kind"] as? String, "linear-tfidf")
        for file in ["baseline.json", "vocabulary.json", "weights.safetensors", "training_report.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/config.json"), "not a Hugging Face directory")

        let eval = try BertCtl.run(["eval", "--local", out, "--data", test, "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let metrics = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(metrics["accuracy"] as? Double, 1, "the adjectives decide the label: \(metrics)")
        XCTAssertEqual(metrics["model_kind"] as? String, "linear-tfidf")

        let classify = try BertCtl.run(["classify", "--local", out, "--json", "the hotel was wonderful", "the trip was horrible"])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        let rows = classify.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(rows.map { $0["label"] as? String }, ["positive", "negative"])
        for row in rows {
            let scores = row["scores"] as! [String: Double]
            XCTAssertEqual(scores.values.reduce(0, +), 1, accuracy: 1e-5)
        }
    }

    func testWhatABaselineCannotDoIsRefused() throws {
        let train = try writeData("train.tsv", count: 40, seed: 2)
        let out = scratch.appendingPathComponent("baseline").path
        XCTAssertEqual(try BertCtl.run(["train", "--local", "--method", "baseline-linear", "--train", train, "--out", out]).status, 0)
        let zeroShot = try BertCtl.run(["classify", "--local", out, "--labels", "a,b", "text"])
        XCTAssertNotEqual(zeroShot.status, 0)
        XCTAssertTrue(zeroShot.stderr.contains("linear baseline"), zeroShot.stderr)
        let bad = try BertCtl.run(["train", "--local", "--method", "baseline-linear", "--train", train, "--out", out, "--c", "0"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("\"c\""), bad.stderr)
        let loss = try BertCtl.run(["train", "--local", "--method", "baseline-linear", "--train", train, "--out", out, "--loss", "focal"])
        XCTAssertNotEqual(loss.status, 0)
        XCTAssertTrue(loss.stderr.contains("not for a linear baseline"), loss.stderr)
        let errors = try BertCtl.run(["eval", "--local", out, "--data", train, "--errors", "3"])
        XCTAssertNotEqual(errors.status, 0)
        XCTAssertTrue(errors.stderr.contains("linear baseline"), errors.stderr)
    }
}

/// `bertctl compare`: a baseline and a transformer scored on one file, one row each, best first.
final class CompareCommandTests: XCTestCase {
    func testOneTableForABaselineAndATransformer() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertctl-compare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Three labels as tiny-bert has; the word after "was" decides.
        var lines = ["text\tlabel"]
        for i in 0..<90 {
            let (word, label) = [("good", "pos"), ("bad", "neg"), ("okay", "neu")][i % 3]
            lines.append("the \(["film", "meal", "trip"][(i / 3) % 3]) was \(word)\t\(label)")
        }
        let data = scratch.appendingPathComponent("data.tsv")
        try (lines.joined(separator: "\n") + "\n").write(to: data, atomically: true, encoding: .utf8)
        let baseline = scratch.appendingPathComponent("baseline").path
        XCTAssertEqual(try BertCtl.run(["train", "--local", "--method", "baseline-linear", "--train", data.path, "--out", baseline,
                                        "--min-df", "1", "--c", "10"]).status, 0)
        let tiny = tinyModelPath("tiny-bert")
        let markdown = scratch.appendingPathComponent("table.md").path
        let result = try BertCtl.run(["compare", tiny, baseline, "--data", data.path, "--json", "--markdown", markdown])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let rows = report["models"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["directory"] as? String }, [baseline, tiny], "sorted by macro-F1: the baseline learned, tiny-bert did not")
        XCTAssertEqual(rows[0]["kind"] as? String, "linear-tfidf")
        XCTAssertEqual(rows[0]["accuracy"] as? Double, 1)
        XCTAssertNotNil(rows[0]["training_seconds"])
        XCTAssertEqual(rows[1]["parameters"] as? Int, 36803)
        for row in rows {
            XCTAssertEqual(row["examples"] as? Int, 90)
            XCTAssertGreaterThan(row["ms_per_text"] as! Double, 0)
            XCTAssertGreaterThan(row["bytes"] as! Int, 0)
        }
        let table = try String(contentsOfFile: markdown, encoding: .utf8)
        XCTAssertTrue(table.hasPrefix("| MODEL | KIND | ACCURACY | MACRO F1 |"), table)
        XCTAssertEqual(table.components(separatedBy: "\n").filter { $0.hasPrefix("| /") }.count, 2, table)

        let missing = try BertCtl.run(["compare", scratch.appendingPathComponent("nothing").path, "--data", data.path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nothing"), missing.stderr)
    }

    /// A multi-label comparison shows micro-F1 and the macro ROC-AUC over labels.
    func testCompareShowsMultiLabelROCAUC() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertctl-compare-multi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Each text names one or two of three topics; its labels are the topics named.
        var lines = ["text\tlabel"]
        let topics = [("football", "sport"), ("recipe", "food"), ("shares", "money")]
        for i in 0..<90 {
            let first = topics[i % 3], second = topics[(i / 3) % 3]
            let named = first.1 == second.1 ? [first] : [first, second]
            lines.append("a note about \(named.map(\.0).joined(separator: " and ")) number \(i % 7)\t\(named.map(\.1).joined(separator: "|"))")
        }
        let data = scratch.appendingPathComponent("data.tsv")
        try (lines.joined(separator: "\n") + "\n").write(to: data, atomically: true, encoding: .utf8)
        let baseline = scratch.appendingPathComponent("baseline").path
        let trained = try BertCtl.run(["train", "--local", "--method", "baseline-linear", "--train", data.path, "--out", baseline,
                                       "--min-df", "1", "--c", "10"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let markdown = scratch.appendingPathComponent("table.md").path
        let result = try BertCtl.run(["compare", baseline, "--data", data.path, "--json", "--markdown", markdown])
        XCTAssertEqual(result.status, 0, result.stderr)
        let row = ((try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any])["models"] as! [[String: Any]])[0]
        XCTAssertEqual(row["task"] as? String, "multi_label_classification")
        XCTAssertGreaterThan(row["roc_auc"] as? Double ?? 0, 0.9, "\(row)")
        XCTAssertNotNil(row["micro_f1"] as? Double)
        let table = try String(contentsOfFile: markdown, encoding: .utf8)
        XCTAssertTrue(table.hasPrefix("| MODEL | KIND | SUBSET ACC | MACRO F1 | MICRO F1 | ROC AUC |"), table)
        let cells = table.components(separatedBy: "\n")[2].components(separatedBy: " | ")
        XCTAssertEqual(Double(cells[5]) ?? 0, row["roc_auc"] as? Double ?? -1, accuracy: 1e-4, table)
    }
}
