import BertProtocol
import BertServer
import Foundation
import XCTest
import ZeroMQ

/// Training jobs in the daemon, in-process on real sockets with the tiny BERT: submit, events,
/// the result served under its name, cancel, bad submissions, and a job interrupted by a stop
/// that resumes when the next server starts on the same state directory.
final class TrainingJobTests: XCTestCase {
    private func writeData(in directory: String, count: Int = 120) throws -> String {
        let words = ["good", "bad", "fine", "poor", "great", "awful"]
        var lines = ["text\tlabel"]
        for i in 0..<count { lines.append("the \(["film", "meal", "trip"][i % 3]) was \(words[(i * 5) % 6]) \(i)\t\(["neg", "pos"][(i * 5) % 6 % 2])") }
        let path = directory + "/train.tsv"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func train(_ h: ServerHarness, name: String, data: String, options: String) throws -> [String: Any] {
        try h.call(#"{"id":"t","op":"train","name":"\#(name)","model":"tiny","train":"\#(data)","options":\#(options)}"#, endpoint: h.ipc)
    }

    private func subscribe(_ h: ServerHarness) throws -> Socket { try h.subscribe(["job."]) }

    /// Events until one with this topic (and job id) arrives; all of them, in order.
    private func events(_ sub: Socket, until topic: String, job: String, timeout: TimeInterval = 60) throws -> [(String, [String: Any])] {
        var seen: [(String, [String: Any])] = []
        let until = Date(timeIntervalSinceNow: timeout)
        var poller = Poller()
        poller.add(.socket(sub))
        while Date() < until {
            guard try !poller.poll(timeoutMs: 200).isEmpty, let m = try sub.receive(dontWait: true) else { continue }
            let t = String(decoding: m.frames[0], as: UTF8.self)
            let body = try JSONSerialization.jsonObject(with: Data(m.frames[1])) as! [String: Any]
            guard body["job"] as? String == job else { continue }
            seen.append((t, body))
            if t == topic { return seen }
        }
        XCTFail("no \(topic) for job \(job) within \(timeout) s; saw \(seen.map(\.0))")
        return seen
    }

    func testJobTrainsPublishesAndServesItsModel() throws {
        let h = try ServerHarness(events: true)
        defer { h.stop() }
        let data = try writeData(in: h.runtimeDirectory)
        let sub = try subscribe(h)
        defer { sub.close() }
        let submitted = try train(h, name: "trained", data: data, options: #"{"epochs": 2, "batch_size": 8, "learning_rate": 0.001}"#)
        XCTAssertTrue(submitted.ok, "\(submitted)")
        let job = try XCTUnwrap(submitted.result["job"] as? [String: Any])
        let id = try XCTUnwrap(job["id"] as? String)
        XCTAssertEqual(job["state"] as? String, "queued")

        let seen = try events(sub, until: "job.finished", job: id)
        let topics = seen.map(\.0)
        XCTAssertEqual(Array(topics.prefix(2)), ["job.queued", "job.started"], "\(topics)")
        XCTAssertTrue(topics.contains("job.step") && topics.filter { $0 == "job.eval" }.count == 2, "\(topics)")
        let finished = try XCTUnwrap(seen.last?.1)
        XCTAssertNotNil((finished["metrics"] as? [String: Any])?["accuracy"] as? Double, "\(finished)")

        // Served under its name as soon as it is loaded (the load follows the finish at once).
        var classify: [String: Any] = [:]
        for _ in 0..<100 {
            classify = try h.call(classifyRequest(["the film was good"], model: "trained"))
            if classify.ok { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(classify.ok, "\(classify)")
        let labels = ((classify.result["results"] as? [[String: Any]])?.first?["scores"] as? [String: Any]).map { Set($0.keys) }
        XCTAssertEqual(labels, ["neg", "pos"])

        let listed = try h.call(#"{"id":"j","op":"jobs"}"#, endpoint: h.ipc)
        let record = try XCTUnwrap((listed.result["jobs"] as? [[String: Any]])?.first)
        XCTAssertEqual(record["state"] as? String, "finished")
        let output = try XCTUnwrap(record["output"] as? String)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output + "/model.safetensors"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/last-checkpoint"), "a finished job keeps no resume point")
        XCTAssertEqual(record["name"] as? String, "trained")
        XCTAssertEqual((record["progress"] as? [String: Any])?["epoch"] as? Int, 2)
    }

    /// A LoRA job's result is served merged: a plain model directory.
    func testLoRAJobIsServedMerged() throws {
        let h = try ServerHarness(events: true)
        defer { h.stop() }
        let data = try writeData(in: h.runtimeDirectory)
        let sub = try subscribe(h)
        defer { sub.close() }
        let submitted = try train(h, name: "adapted", data: data, options: #"{"method": "lora", "lora_rank": 4, "epochs": 1, "learning_rate": 0.001}"#)
        let id = try XCTUnwrap((submitted.result["job"] as? [String: Any])?["id"] as? String, "\(submitted)")
        let finished = try XCTUnwrap(try events(sub, until: "job.finished", job: id).last?.1)
        let path = try XCTUnwrap(finished["path"] as? String)
        XCTAssertTrue(path.hasSuffix("/output/merged"), path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + "/model.safetensors"))
        var classify: [String: Any] = [:]
        for _ in 0..<100 {
            classify = try h.call(classifyRequest(["the meal was awful"], model: "adapted"))
            if classify.ok { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(classify.ok, "\(classify)")
    }

    func testBadSubmissionsAndCancel() throws {
        let h = try ServerHarness(events: true)
        defer { h.stop() }
        let data = try writeData(in: h.runtimeDirectory, count: 400)
        XCTAssertEqual(try train(h, name: "x", data: data, options: #"{"epochs": 0}"#).errorCode, "bad_request")
        XCTAssertEqual(try train(h, name: "x", data: data, options: #"{"epoch": 2}"#).errorCode, "bad_request", "a typo is an error")
        XCTAssertEqual(try train(h, name: "x", data: data, options: #"{"method": "magic"}"#).errorCode, "bad_request")
        XCTAssertEqual(try train(h, name: "x", data: "relative.tsv", options: "{}").errorCode, "bad_request")
        XCTAssertEqual(try train(h, name: "x", data: "/nonexistent/train.tsv", options: "{}").errorCode, "bad_request")
        XCTAssertEqual(try h.call(#"{"id":"t","op":"train","name":"x","model":"nope","train":"\#(data)"}"#, endpoint: h.ipc).errorCode, "unknown_model")
        XCTAssertEqual(try h.call(#"{"id":"t","op":"train","name":"x","model":"tiny","train":"\#(data)"}"#).errorCode, "forbidden", "admin only")
        XCTAssertEqual(try h.call(#"{"id":"c","op":"cancel","job":"99"}"#, endpoint: h.ipc).errorCode, "unknown_job")
        XCTAssertEqual(try h.call(#"{"id":"c","op":"jobs","job":"99"}"#, endpoint: h.ipc).errorCode, "unknown_job")

        // A long job and a queued one: cancel both; the queued one never starts.
        let sub = try subscribe(h)
        defer { sub.close() }
        let long = try XCTUnwrap((try train(h, name: "long", data: data, options: #"{"epochs": 500, "batch_size": 4}"#).result["job"] as? [String: Any])?["id"] as? String)
        let queued = try XCTUnwrap((try train(h, name: "later", data: data, options: "{}").result["job"] as? [String: Any])?["id"] as? String)
        _ = try events(sub, until: "job.step", job: long)
        XCTAssertTrue(try h.call(#"{"id":"c","op":"cancel","job":"\#(queued)"}"#, endpoint: h.ipc).ok)
        XCTAssertTrue(try h.call(#"{"id":"c","op":"cancel","job":"\#(long)"}"#, endpoint: h.ipc).ok)
        let later = try events(sub, until: "job.cancelled", job: queued)
        // (its job.queued may come after the long job's first step, so it may be among these)
        XCTAssertEqual(later.map(\.0).filter { $0 != "job.queued" }, ["job.cancelled"], "a cancelled queued job never starts")
        _ = try events(sub, until: "job.cancelled", job: long)
        let queuedState = try h.call(#"{"id":"j","op":"jobs","job":"\#(queued)"}"#, endpoint: h.ipc).result["job"] as? [String: Any]
        XCTAssertEqual(queuedState?["state"] as? String, "cancelled")
        XCTAssertNil(queuedState?["started"] as? String)
        let state = try h.call(#"{"id":"j","op":"jobs","job":"\#(long)"}"#, endpoint: h.ipc).result["job"] as? [String: Any]
        XCTAssertEqual(state?["state"] as? String, "cancelled")
        XCTAssertEqual(try h.call(#"{"id":"c","op":"cancel","job":"\#(long)"}"#, endpoint: h.ipc).errorCode, "bad_request", "already cancelled")
        // Requests were served while it trained.
        XCTAssertTrue(try h.call(classifyRequest(["still serving"])).ok)
    }

    /// A finished job's model is served again after a restart, until it is unloaded.
    func testFinishedJobModelsAreServedAfterARestart() throws {
        let state = NSTemporaryDirectory() + "bertd-jobs-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let data = try writeData(in: state)
        func names(_ h: ServerHarness) throws -> [String] {
            (try h.call(#"{"id":"m","op":"models"}"#).result["models"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        do {
            let h = try ServerHarness(events: true) { $0.stateDirectory = state }
            defer { h.stop() }
            let sub = try subscribe(h)
            defer { sub.close() }
            let id = try XCTUnwrap((try train(h, name: "kept", data: data, options: #"{"epochs": 1}"#).result["job"] as? [String: Any])?["id"] as? String)
            _ = try events(sub, until: "job.finished", job: id)
        }
        do {
            let h = try ServerHarness { $0.stateDirectory = state }
            defer { h.stop() }
            XCTAssertEqual(Set(try names(h)), ["tiny", "kept"], "served again after a restart")
            XCTAssertTrue(try h.call(classifyRequest(["the trip was fine"], model: "kept")).ok)
            XCTAssertTrue(try h.call(#"{"id":"u","op":"unload","name":"kept"}"#, endpoint: h.ipc).ok)
        }
        let h = try ServerHarness { $0.stateDirectory = state }
        defer { h.stop() }
        XCTAssertEqual(try names(h), ["tiny"], "an unloaded job model stays unloaded")
    }

    /// A stop during a job leaves it interrupted (with a resume point); the next server on the
    /// same state directory resumes it and finishes it.
    func testInterruptedJobResumesAtTheNextStart() throws {
        let state = NSTemporaryDirectory() + "bertd-jobs-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let data = try writeData(in: state, count: 200)
        var id = ""
        do {
            let h = try ServerHarness(events: true) { $0.stateDirectory = state }
            let sub = try subscribe(h)
            let submitted = try train(h, name: "resumed", data: data, options: #"{"epochs": 150, "batch_size": 4, "seed": 9}"#)
            id = try XCTUnwrap((submitted.result["job"] as? [String: Any])?["id"] as? String, "\(submitted)")
            let steps = try events(sub, until: "job.step", job: id)
            XCTAssertEqual(steps.last?.0, "job.step")
            sub.close()
            h.stop()
        }
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/jobs/\(id)/job.json"))) as! [String: Any]
        XCTAssertEqual(saved["state"] as? String, "interrupted", "\(saved)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(state)/jobs/\(id)/output/last-checkpoint/trainer_state.json"))

        let trainerState = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/jobs/\(id)/output/last-checkpoint/trainer_state.json"))) as! [String: Any]
        let stoppedAt = try XCTUnwrap(trainerState["global_step"] as? Int)

        // The next start resumes it: it runs again, says so, and gets past the resume point.
        // (Not to its end: that a resumed run is the uninterrupted one is ResumeTests.)
        let h = try ServerHarness(events: true) { $0.stateDirectory = state }
        defer { h.stop() }
        var record: [String: Any] = [:]
        for _ in 0..<1200 {
            record = try h.call(#"{"id":"j","op":"jobs","job":"\#(id)"}"#, endpoint: h.ipc).result["job"] as? [String: Any] ?? [:]
            if let step = (record["progress"] as? [String: Any])?["step"] as? Int, step > stoppedAt { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(record["state"] as? String, "running", "\(record)")
        XCTAssertEqual(record["resumed"] as? Bool, true, "\(record)")
        XCTAssertGreaterThan((record["progress"] as? [String: Any])?["step"] as? Int ?? 0, stoppedAt, "\(record)")
    }
}
