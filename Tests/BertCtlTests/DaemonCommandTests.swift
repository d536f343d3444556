import Foundation
import XCTest

/// bertctl's daemon commands against a real `bertd` process: results, tables, the documented
/// exit statuses (3: no answer, 4: an error reply), and an unreachable daemon that never hangs.
final class DaemonCommandTests: XCTestCase {
    func testUnreachableDaemonIsOneLineAndExitThree() throws {
        let started = Date()
        let result = try BertCtl.run(["ping", "--endpoint", "tcp://127.0.0.1:9", "--timeout", "200", "--retries", "1"], timeout: 30)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("did not answer"), result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    func testCommandsAgainstARunningDaemon() throws {
        let model = try miniLMPath()
        let runtime = NSTemporaryDirectory() + "bertctl-daemon-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        let ipc = "ipc://\(runtime)/bertd.sock"
        let daemon = Process()
        daemon.executableURL = BertCtl.executable.deletingLastPathComponent().appendingPathComponent("bertd")
        // The OS picks the port; bertd's ready line names the endpoint it bound.
        daemon.arguments = ["--config", "none", "--set", "models.minilm.path=\(model)", "--set", "endpoint.0.address=tcp://127.0.0.1:*",
                            "--set", "endpoint.1.address=\(ipc)", "--set", "server.events_endpoint=ipc://\(runtime)/events.sock"]
        daemon.environment = ["RUNTIME_DIRECTORY": runtime, "STATE_DIRECTORY": runtime]
        let log = Pipe(), logged = LockedData()
        daemon.standardError = log
        log.fileHandleForReading.readabilityHandler = { logged.append($0.availableData) }
        try daemon.run()
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
            log.fileHandleForReading.readabilityHandler = nil
        }
        let startBy = Date(timeIntervalSinceNow: 60)
        while !logged.text.contains(" ready: ") && daemon.isRunning && Date() < startBy { Thread.sleep(forTimeInterval: 0.01) }
        let tcp = try XCTUnwrap(logged.text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" })
            .first { $0.hasPrefix("tcp://127.0.0.1:") }.map(String.init), "bertd did not start: \(logged.text)")
        XCTAssertEqual(try BertCtl.run(["ping", "--endpoint", tcp, "--timeout", "2000", "--retries", "0"]).status, 0, "bertd is ready: \(tcp)")

        let classify = try BertCtl.run(["classify", "--endpoint", tcp, "--labels", "sports,cooking", "--json", "the football team won the match"])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        XCTAssertTrue(classify.stdout.contains("\"label\":\"sports\""), classify.stdout)
        let embed = try BertCtl.run(["embed", "--endpoint", tcp, "hello"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(embed.stdout.utf8)) as? [Double])?.count, 384)
        let models = try BertCtl.run(["models", "--endpoint", tcp])
        XCTAssertTrue(models.stdout.hasPrefix("NAME"), models.stdout)
        XCTAssertTrue(models.stdout.contains("minilm *"), models.stdout)
        let status = try BertCtl.run(["status", "--endpoint", tcp, "--json"])
        XCTAssertEqual(status.status, 0)
        XCTAssertNotNil((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["uptime_s"])
        let table = try BertCtl.run(["status", "--endpoint", tcp])
        XCTAssertEqual(table.status, 0, table.stderr)
        for row in ["queue       0 texts", "requests    ", "latency ms  p50 ", "errors      none", "dropped     0 texts past their deadline; 0 requests abandoned"] {
            XCTAssertTrue(table.stdout.contains(row), "\(row) in:\n\(table.stdout)")
        }

        // The load generator: every request answered, none lost, in both request kinds.
        let texts = runtime + "/texts.tsv"
        try ("sentence\tlabel\n" + (0..<10).map { "load test sentence number \($0)\t0" }.joined(separator: "\n") + "\n")
            .write(toFile: texts, atomically: true, encoding: .utf8)
        for extra in [["--labels", "a,b"], ["--embed"]] {
            let load = try BertCtl.run(["loadtest", "--endpoint", tcp, "--clients", "4", "--requests", "40", "--texts", texts, "--json"] + extra)
            XCTAssertEqual(load.status, 0, load.stderr)
            let figures = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(load.stdout.utf8)) as? [String: Any], load.stdout)
            XCTAssertEqual(figures["ok"] as? Int, 40, "\(extra): \(figures)")
            XCTAssertEqual((figures["errors"] as? [String: Any])?.count, 0, "\(extra): \(figures)")
            XCTAssertGreaterThan(figures["requests_per_s"] as? Double ?? 0, 0)
        }

        // Admin operations: refused on TCP (exit 4 with the code), accepted on the ipc socket.
        let tiny = packageRoot.appendingPathComponent("Tests/BertCoreTests/Fixtures/tiny-bert").path
        let refused = try BertCtl.run(["load", "--endpoint", tcp, "tiny", tiny])
        XCTAssertEqual(refused.status, 4)
        XCTAssertTrue(refused.stderr.contains("forbidden"), refused.stderr)
        XCTAssertEqual(try BertCtl.run(["load", "--endpoint", ipc, "tiny", tiny]).status, 0)
        // --window/--stride/--aggregate: the daemon reads this model's long texts in windows.
        let windowed = try BertCtl.run(["load", "--endpoint", ipc, "tinylong", tiny, "--window", "16", "--aggregate", "max", "--json"])
        XCTAssertEqual(windowed.status, 0, windowed.stderr)
        let policy = (try JSONSerialization.jsonObject(with: Data(windowed.stdout.utf8)) as? [String: Any])
            .flatMap { ($0["loaded"] as? [String: Any])?["long_documents"] as? [String: Any] }
        XCTAssertEqual(policy?["window"] as? Int, 16, windowed.stdout)
        XCTAssertEqual(policy?["stride"] as? Int, 4, windowed.stdout)
        XCTAssertEqual(policy?["aggregate"] as? String, "max", windowed.stdout)
        let listed = try BertCtl.run(["models", "--endpoint", tcp])
        XCTAssertTrue(listed.stdout.split(separator: "\n").contains { $0.hasPrefix("tinylong ") && $0.contains("windows 16/4 max") }, listed.stdout)
        XCTAssertTrue(listed.stdout.split(separator: "\n").contains { $0.hasPrefix("tiny ") && $0.contains("truncate") }, listed.stdout)
        let long = try BertCtl.run(["classify", "--endpoint", tcp, "--model", "tinylong", "--json", Array(repeating: "word", count: 40).joined(separator: " ")])
        XCTAssertEqual(long.status, 0, long.stderr)
        XCTAssertGreaterThan((try JSONSerialization.jsonObject(with: Data(long.stdout.utf8)) as? [String: Any])?["windows"] as? Int ?? 0, 1, long.stdout)
        let headed = try BertCtl.run(["classify", "--endpoint", tcp, "--model", "tiny", "--json", "hello"])
        XCTAssertEqual(headed.status, 0, headed.stderr)

        // Training in bertd: submit and follow to the end, then the result is served; --detach and cancel.
        let data = runtime + "/train.tsv"
        try ("text\tlabel\n" + (0..<80).map { "the film was \(["good", "bad"][$0 % 2]) \($0)\t\(["pos", "neg"][$0 % 2])" }.joined(separator: "\n") + "\n")
            .write(toFile: data, atomically: true, encoding: .utf8)
        let events = "ipc://\(runtime)/events.sock"
        let trained = try BertCtl.run(["train", "--endpoint", ipc, "--events", events, "--name", "fromcli", "--model", "tiny",
                                       "--train", data, "--epochs", "2", "--batch-size", "8"], timeout: 300)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains("finished: accuracy") && trained.stdout.contains("serving as fromcli"), trained.stdout)
        XCTAssertTrue(trained.stderr.contains("validation: loss"), "the progress shows the evaluations: \(trained.stderr)")
        let jobsTable = try BertCtl.run(["jobs", "--endpoint", ipc])
        XCTAssertTrue(jobsTable.stdout.contains("fromcli") && jobsTable.stdout.contains("finished"), jobsTable.stdout)
        var servedTrained = try BertCtl.run(["classify", "--endpoint", tcp, "--model", "fromcli", "--json", "the film was good"])
        for _ in 0..<50 where servedTrained.status != 0 {
            Thread.sleep(forTimeInterval: 0.1)
            servedTrained = try BertCtl.run(["classify", "--endpoint", tcp, "--model", "fromcli", "--json", "the film was good"])
        }
        XCTAssertEqual(servedTrained.status, 0, servedTrained.stderr)
        let detached = try BertCtl.run(["train", "--endpoint", ipc, "--name", "later", "--model", "tiny", "--train", data,
                                        "--epochs", "2000", "--batch-size", "2", "--detach"])
        XCTAssertEqual(detached.status, 0, detached.stderr)
        let jobId = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(jobId.isEmpty)
        let cancelled = try BertCtl.run(["cancel", "--endpoint", ipc, jobId])
        XCTAssertEqual(cancelled.status, 0, cancelled.stderr)
        XCTAssertEqual(try BertCtl.run(["cancel", "--endpoint", ipc, "no-such-job"]).status, 4)
        let refusedJob = try BertCtl.run(["train", "--endpoint", ipc, "--name", "x", "--model", "tiny", "--train", data, "--epochs", "0"])
        XCTAssertNotEqual(refusedJob.status, 0)
        XCTAssertTrue(refusedJob.stderr.contains("epochs"), refusedJob.stderr)

        XCTAssertEqual(try BertCtl.run(["unload", "--endpoint", ipc, "tiny"]).status, 0)
        let gone = try BertCtl.run(["classify", "--endpoint", tcp, "--model", "tiny", "hello"])
        XCTAssertEqual(gone.status, 4)
        XCTAssertTrue(gone.stderr.contains("unknown_model"), gone.stderr)

        // watch: model events as lines, while loads and unloads happen.
        let watch = Process()
        watch.executableURL = BertCtl.executable
        watch.arguments = ["watch", "--events", "ipc://\(runtime)/events.sock", "--topic", "model.", "--count", "2", "--seconds", "30"]
        let watchOutput = Pipe()
        watch.standardOutput = watchOutput
        try watch.run()
        let until = Date(timeIntervalSinceNow: 30)
        while watch.isRunning && Date() < until {  // the subscription takes a moment to reach bertd
            _ = try BertCtl.run(["load", "--endpoint", ipc, "tiny", tiny])
            _ = try BertCtl.run(["unload", "--endpoint", ipc, "tiny"])
            Thread.sleep(forTimeInterval: 0.1)
        }
        watch.waitUntilExit()
        XCTAssertEqual(watch.terminationStatus, 0)
        let lines = String(decoding: watchOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 2, "\(lines)")
        for line in lines {
            XCTAssertNotNil(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  model\.(loaded|unloaded)  model=tiny"#, options: .regularExpression), String(line))
        }
        let noSocket = try BertCtl.run(["watch", "--events", "ipc://\(runtime)/absent.sock", "--count", "1"])
        XCTAssertEqual(noSocket.status, 3)
        XCTAssertTrue(noSocket.stderr.contains("no events socket"), noSocket.stderr)
    }
}
