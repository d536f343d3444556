import Foundation
import XCTest

/// `bertctl sweep` end to end on the tiny model: the report JSON and table, the files, OUT/best
/// read by `bertctl eval`, a rerun that trains nothing, a changed sweep refused, a bad axis.
final class SweepCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertctl-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func writeData(_ name: String, count: Int) throws -> String {
        var lines = ["text\tlabel"]
        for i in 0..<count { lines.append("the \(["film", "meal", "trip"][i % 3]) was \(["good", "bad"][i % 2]) \(i)\t\(["positive", "negative"][i % 2])") }
        let url = scratch.appendingPathComponent(name)
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testSweepWritesARankedReportAndABestModel() throws {
        let train = try writeData("train.tsv", count: 80)
        let out = scratch.appendingPathComponent("sweep").path
        let command = ["sweep", "--model", tinyModelPath("tiny-bert"), "--train", train, "--out", out,
                       "--grid", "lr=1e-3,1e-5", "--epochs", "1", "--batch-size", "8", "--seeds", "2", "--seed", "3"]

        let first = try BertCtl.run(command + ["--json"], timeout: 300)
        XCTAssertEqual(first.status, 0, first.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as! [String: Any]
        let rows = report["rows"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["rank"] as? Int }, [1, 2])
        XCTAssertEqual(Set(rows.map { ($0["values"] as? [String: String])?["lr"] }), ["0.001", "1e-05"])
        XCTAssertEqual(rows.map { ($0["runs"] as? [[String: Any]])?.count }, [2, 2], "two seeds per point")
        XCTAssertNotNil(rows[0]["sd"] as? Double)
        XCTAssertEqual(report["metric"] as? String, "loss")
        let losses = rows.map { $0["mean"] as! Double }
        XCTAssertLessThanOrEqual(losses[0], losses[1], "best first: the lower loss")
        XCTAssertTrue(first.stderr.contains("training 001-lr=0.001-seed3"), first.stderr)
        let fm = FileManager.default
        for file in ["sweep.json", "sweep_report.json", "sweep_report.svg", "best/config.json", "best/model.safetensors",
                     "points/001-lr=0.001-seed3/point.json", "points/002-lr=1e-05-seed4/training_report.json"] {
            XCTAssertTrue(fm.fileExists(atPath: out + "/" + file), file)
        }

        let eval = try BertCtl.run(["eval", "--local", out + "/best", "--data", train, "--json"], timeout: 120)
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertNotNil((try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])?["accuracy"])

        // The same command again: everything is finished, nothing trains; the table is printed.
        let again = try BertCtl.run(command, timeout: 120)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(again.stderr.contains("training "), again.stderr)
        let lines = again.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("rank  lr") == true && lines.first?.contains("loss ± sd") == true, again.stdout)
        XCTAssertTrue(lines.count > 2 && lines[1].hasPrefix("   1  "), again.stdout)
        let bestRun = (report["best"] as? [String: Any])?["run"] as? String ?? "?"
        XCTAssertTrue(bestRun.hasPrefix(rows[0]["name"] as! String), "\(bestRun)")
        XCTAssertTrue(again.stdout.contains("best: \(bestRun) → \(out)/best"), again.stdout)

        let changed = try BertCtl.run(command.map { $0 == "lr=1e-3,1e-5" ? "lr=1e-3" : $0 }, timeout: 60)
        XCTAssertEqual(changed.status, 1)
        XCTAssertTrue(changed.stderr.contains("defined differently (grid)"), changed.stderr)

        // A bad value fails before anything trains, naming the point, and leaves no sweep behind.
        let bad = try BertCtl.run(["sweep", "--model", tinyModelPath("tiny-bert"), "--train", train, "--out", out + "-bad", "--grid", "lr=1e-3,20"])
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("lr=20: \"learning_rate\" must be between"), bad.stderr)
        XCTAssertFalse(fm.fileExists(atPath: out + "-bad/sweep.json"))

        let unknown = try BertCtl.run(["sweep", "--model", tinyModelPath("tiny-bert"), "--train", train, "--out", out + "-2",
                                       "--grid", "learning-rate=1e-3"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("unknown sweep axis \"learning-rate\"; axes are lr, batch-size"), unknown.stderr)
    }
}
