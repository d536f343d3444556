import Foundation
import XCTest

/// `bertctl train` and `bertctl eval` end to end on a small generated dataset (no texts from
/// ../shared): the model learns it, the output is a loadable model directory with a report,
/// and an interrupted run resumes from its last checkpoint.
final class TrainCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertctl-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func writeData(_ name: String, count: Int, seed: Int) throws -> String {
        try writeAdjectiveData(name, count: count, seed: seed, in: scratch)
    }

    func testTrainEvalAndResume() throws {
        let model = try miniLMPath()
        let train = try writeData("train.tsv", count: 160, seed: 1)
        let test = try writeData("test.tsv", count: 60, seed: 4)
        let out = scratch.appendingPathComponent("run").path
        let common = ["train", "--local", "--model", model, "--train", train, "--out", out, "--batch-size", "16", "--lr", "2e-4", "--seed", "3"]

        // "Crash" after one epoch: a run of 1 epoch leaves its resume point.
        var result = try BertCtl.run(common + ["--epochs", "1"], timeout: 600)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/last-checkpoint/trainer_state.json"))
        result = try BertCtl.run(common + ["--epochs", "2", "--resume", "--json"], timeout: 600)
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let epochs = report["epochs"] as! [[String: Any]]
        XCTAssertEqual(epochs.map { $0["epoch"] as? Int }, [1, 2], "resumed after epoch 1")
        for file in ["config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "training_report.json", "training_report.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["BertForSequenceClassification"])
        XCTAssertEqual(config["id2label"] as? [String: String], ["0": "negative", "1": "positive"])

        // The trained directory serves like any model: eval and classify load it.
        let eval = try BertCtl.run(["eval", "--local", out, "--data", test, "--json"], timeout: 300)
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let metrics = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        print("two word lists after 2 epochs: \(metrics)")
        XCTAssertGreaterThan(metrics["accuracy"] as! Double, 0.9, "the model should learn two word lists: \(metrics)")
        let classify = try BertCtl.run(["classify", "--local", out, "--json", "the film was wonderful"])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        XCTAssertTrue(classify.stdout.contains("\"label\":\"positive\""), classify.stdout)
    }

    /// Ctrl-C stops the run at the next step with a resume point and exit status 130; the same
    /// command with --resume continues from that step: its first step is the one after it, and
    /// (stopped again) its resume point holds every step once. The resumed run is not trained
    /// to the end: that a resumed run is bit-identical to an uninterrupted one is
    /// BertTrainingTests.ResumeTests.
    func testInterruptThenResume() throws {
        let model = try miniLMPath()
        let train = try writeData("train.tsv", count: 480, seed: 2)
        let out = scratch.appendingPathComponent("run").path
        let command = ["train", "--local", "--model", model, "--train", train, "--out", out, "--batch-size", "16", "--epochs", "2", "--seed", "3"]
        let stateFile = URL(fileURLWithPath: out + "/last-checkpoint/trainer_state.json")

        let first = try interruptAfterFirstStep(command)
        XCTAssertEqual(first.status, 130, first.stderr)
        XCTAssertTrue(first.stderr.contains("stopped at step") && first.stderr.contains("--resume"), first.stderr)
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: stateFile)) as! [String: Any]
        let stoppedAt = try XCTUnwrap(state["global_step"] as? Int)
        XCTAssertLessThan(stoppedAt, 2 * 27, "stopped before the end: \(state)")

        let resumed = try interruptAfterFirstStep(command + ["--resume"])
        XCTAssertEqual(resumed.status, 130, resumed.stderr)
        let steps = Self.printedSteps(resumed.stderr)
        XCTAssertEqual(steps.first, stoppedAt + 1, "the resumed run starts after the resume point: \(resumed.stderr)")
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: stateFile)) as! [String: Any]
        let stoppedAgain = try XCTUnwrap(again["global_step"] as? Int)
        XCTAssertGreaterThan(stoppedAgain, stoppedAt)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/last-checkpoint/training_report.json"))) as! [String: Any]
        XCTAssertEqual((report["steps"] as! [[String: Any]]).map { $0["step"] as? Int }, Array(1...stoppedAgain).map { $0 }, "every step once")
    }

    /// Runs bertctl, sends SIGINT once it has printed a step, and waits for it to exit.
    private func interruptAfterFirstStep(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = BertCtl.executable
        process.arguments = arguments
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        let collected = LockedData()
        stderr.fileHandleForReading.readabilityHandler = { collected.append($0.availableData) }
        try process.run()
        let until = Date(timeIntervalSinceNow: 120)
        while Self.printedSteps(collected.text).isEmpty && process.isRunning && Date() < until { Thread.sleep(forTimeInterval: 0.01) }
        process.interrupt()  // SIGINT
        process.waitUntilExit()
        stderr.fileHandleForReading.readabilityHandler = nil
        collected.append(stderr.fileHandleForReading.readDataToEndOfFile())
        return (process.terminationStatus, collected.text)
    }

    /// The step numbers of the progress lines ("… step 12/54 …").
    private static func printedSteps(_ text: String) -> [Int] {
        text.components(separatedBy: " step ").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
    }

    func testBadRowsAreNamedWithTheirLine() throws {
        let model = try miniLMPath()
        let url = scratch.appendingPathComponent("bad.csv")
        try "text,label\nfine text,a\n,b\nmore text,a\n".write(to: url, atomically: true, encoding: .utf8)
        let result = try BertCtl.run(["train", "--local", "--model", model, "--train", url.path, "--out", scratch.appendingPathComponent("o").path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("bad.csv") && result.stderr.contains("3"), result.stderr)
        let missing = try BertCtl.run(["train", "--model", model, "--train", url.path, "--out", "x"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("--local"), missing.stderr)
    }
}
