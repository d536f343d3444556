import BertCore
import BertPipeline
import BertProtocol
import BertServer
import Foundation
import XCTest
import ZeroMQ

/// The daemon in-process on real ZeroMQ sockets: operations, batching, admission control,
/// deadlines, hot model changes, graceful stop.
final class ServerTests: XCTestCase {
    func testPingModelsAndClassifyMatchTheLocalPipeline() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        XCTAssertEqual(try h.call(#"{"id":"p","op":"ping"}"#).result["pong"] as? Bool, true)
        let models = try h.call(#"{"id":"m","op":"models"}"#).result
        XCTAssertEqual(models["default"] as? String, "tiny")
        let reply = try h.call(classifyRequest(["hello world", "a second text"], id: "c1"))
        XCTAssertEqual(reply["id"] as? String, "c1")
        XCTAssertTrue(reply.ok, "\(reply)")
        let results = reply.result["results"] as! [[String: Any]]
        XCTAssertEqual(results.count, 2)
        // The same numbers as running the pipeline in-process.
        let local = try TextModel(directory: URL(fileURLWithPath: ServerHarness.tinyBert))
        let expected = try local.classify([try local.prepare("hello world"), try local.prepare("a second text")], workspace: local.makeWorkspace())
        for (r, e) in zip(results, expected) {
            XCTAssertEqual(r["label"] as? String, e.label)
            let logits = (r["logits"] as! [Double]).map(Float.init)
            XCTAssertEqual(logits.count, e.logits.count)
            for (a, b) in zip(logits, e.logits) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
    }

    func testErrorsHaveStableCodes() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        XCTAssertEqual(try h.call("nonsense").errorCode, "bad_request")
        XCTAssertEqual(try h.call(#"{"id":1,"op":"fly"}"#).errorCode, "unknown_op")
        XCTAssertEqual(try h.call(classifyRequest(["x"], model: "nope")).errorCode, "unknown_model")
        XCTAssertEqual(try h.call(#"{"id":1,"op":"load","name":"x","path":"/tmp"}"#).errorCode, "forbidden")
        XCTAssertEqual(try h.call(#"{"id":1,"op":"load","name":"x","path":"/nonexistent"}"#, endpoint: h.ipc).errorCode, "load_failed")
        XCTAssertEqual(try h.call(classifyRequest([""])).errorCode, "bad_request")
        XCTAssertEqual(try h.call(classifyRequest(Array(repeating: "a", count: 300))).errorCode, "too_large")
        let strict = Request(id: .string("t"), .classify(Inference(texts: [String(repeating: "word ", count: 100)], truncate: false)))
        XCTAssertEqual(try h.call(strict).errorCode, "too_large")  // tiny-bert takes 64 positions
        let truncated = try h.call(classifyRequest([String(repeating: "word ", count: 100)]))
        XCTAssertEqual((truncated.result["results"] as! [[String: Any]])[0]["truncated"] as? Bool, true)
        XCTAssertEqual(try h.call(#"{"id":1,"op":"ping"}"#).result["pong"] as? Bool, true)  // still serving
    }

    /// Requests sent together are computed together: fewer batches than requests.
    func testConcurrentRequestsAreBatched() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let dealer = try Socket(h.context, .dealer)
        try dealer.setLinger(0)
        try dealer.connect(h.tcp)
        defer { dealer.close() }
        let n = 64
        for i in 0..<n { try dealer.send([[], classifyRequest(["text number \(i)"], id: "r\(i)").json.bytes]) }
        var ids = Set<String>()
        try dealer.setReceiveTimeout(10_000)
        for _ in 0..<n {
            let reply = try XCTUnwrap(try dealer.receive())
            XCTAssertEqual(reply.frames.count, 2)  // delimiter echoed, then the body
            let object = try JSONSerialization.jsonObject(with: Data(reply.frames[1])) as! [String: Any]
            XCTAssertTrue(object.ok)
            ids.insert(object["id"] as! String)
        }
        XCTAssertEqual(ids.count, n)
        let status = try h.call(#"{"id":"s","op":"status"}"#).result
        let batches = status["batches"] as! Int
        XCTAssertLessThan(batches, n, "64 queued requests should share batches, got \(batches)")
        XCTAssertEqual(status["batched_texts"] as? Int, n)
    }

    func testMaxBatchRequestsOneMeansOneTextPerBatch() throws {
        let h = try ServerHarness { $0.maxBatchRequests = 1 }
        defer { h.stop() }
        let reply = try h.call(classifyRequest(["a", "b", "c"]))
        XCTAssertTrue(reply.ok)
        XCTAssertEqual(try h.call(#"{"id":"s","op":"status"}"#).result["batches"] as? Int, 3)
    }

    func testOverloadedPastTheQueueBound() throws {
        let h = try ServerHarness { $0.maxQueueRequests = 4 }
        defer { h.stop() }
        let dealer = try Socket(h.context, .dealer)
        try dealer.setLinger(0)
        try dealer.connect(h.tcp)
        defer { dealer.close() }
        let n = 200
        for i in 0..<n { try dealer.send([[], classifyRequest((0..<3).map { "text \(i) \($0)" }, id: "r\(i)").json.bytes]) }
        try dealer.setReceiveTimeout(20_000)
        var codes: [String: Int] = [:]
        for _ in 0..<n {
            let reply = try XCTUnwrap(try dealer.receive())
            let object = try JSONSerialization.jsonObject(with: Data(reply.frames.last!)) as! [String: Any]
            codes[object.errorCode ?? "ok", default: 0] += 1
        }
        XCTAssertEqual(codes.values.reduce(0, +), n, "every request answered")
        XCTAssertGreaterThan(codes["overloaded"] ?? 0, 0, "\(codes)")
        XCTAssertGreaterThan(codes["ok"] ?? 0, 0, "\(codes)")
    }

    func testExpiredDeadlineIsDroppedBeforeCompute() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        let request = classifyRequest((0..<200).map { "text \($0) " + String(repeating: "x ", count: 40) }, deadlineMs: 0)
        let reply = try h.call(request)
        XCTAssertEqual(reply.errorCode, "deadline_exceeded", "\(reply)")
        XCTAssertGreaterThan(try h.call(#"{"id":"s","op":"status"}"#).result["expired"] as! Int, 0)
    }

    func testHotLoadReplacesAndUnloadRemoves() throws {
        let h = try ServerHarness(events: true)
        defer { h.stop() }
        let sub = try h.subscribe(["model."])
        defer { sub.close() }
        let load = Request(id: .string("l"), .load(name: "tiny", path: ServerHarness.tinyDistilBert))
        let loaded = try h.call(load, endpoint: h.ipc)
        XCTAssertTrue(loaded.ok, "\(loaded)")
        let model = try XCTUnwrap(loaded.result["loaded"] as? [String: Any])
        XCTAssertEqual(model["version"] as? Int, 2)
        XCTAssertEqual(model["family"] as? String, "distilbert")
        try sub.setReceiveTimeout(5000)
        let event = try XCTUnwrap(try sub.receive())
        XCTAssertEqual(String(decoding: event.frames[0], as: UTF8.self), "model.loaded")
        XCTAssertTrue(try h.call(classifyRequest(["still works"])).ok)

        let unload = Request(id: .string("u"), .unload(name: "tiny"))
        XCTAssertTrue(try h.call(unload, endpoint: h.ipc).ok)
        XCTAssertEqual(try h.call(classifyRequest(["gone"])).errorCode, "unknown_model")
        XCTAssertEqual(try h.call(unload, endpoint: h.ipc).errorCode, "unknown_model")
    }

    func testReloadLoadsNewVersions() throws {
        let h = try ServerHarness()
        defer { h.stop() }
        h.server.requestReload()
        let deadline = Date(timeIntervalSinceNow: 10)
        var version = 1
        while version < 2 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            let models = try h.call(#"{"id":"m","op":"models"}"#).result["models"] as! [[String: Any]]
            version = models.first?["version"] as? Int ?? 0
        }
        XCTAssertEqual(version, 2)
    }

    /// Work queued for a client that disconnects is withdrawn before it is computed, while
    /// clients that come and go on the same (reused) descriptors keep every reply.
    func testWorkOfAVanishedClientIsWithdrawn() throws {
        // Enough queued work (12 000 texts, one per batch) that even a fast machine is still
        // computing it when the disconnect is seen.
        let h = try ServerHarness {
            $0.maxBatchRequests = 1
            $0.maxQueueRequests = 20_000
            $0.maxQueueTokens = 1 << 22
        }
        defer { h.stop() }
        let requests = 60, textsPerRequest = 200
        let gone = try Socket(h.context, .dealer)
        try gone.setLinger(2000)  // close() still delivers what was sent, then disconnects
        try gone.connect(h.tcp)
        for i in 0..<requests {
            let texts = (0..<textsPerRequest).map { "queued text \(i) \($0) " + String(repeating: "word ", count: 20) }
            try gone.send([[], classifyRequest(texts, id: "g\(i)").json.bytes])
        }
        try waitUntilRead(h, requests: requests, since: 0)
        gone.close()
        // Short-lived clients that wait for their replies reuse the departed one's descriptor.
        for i in 0..<20 {
            let reply = try h.call(classifyRequest(["live \(i)"], id: "l\(i)"))
            XCTAssertTrue(reply.ok, "\(reply)")
            XCTAssertEqual(reply["id"] as? String, "l\(i)")
        }
        var status: [String: Any] = [:]
        let until = Date(timeIntervalSinceNow: 30)
        repeat {
            status = try h.call(#"{"id":"s","op":"status"}"#).result
            if (status["queue"] as? [String: Any])?["texts"] as? Int == 0 && (status["queue"] as? [String: Any])?["requests_in_flight"] as? Int == 0 { break }
            Thread.sleep(forTimeInterval: 0.02)
        } while Date() < until
        let abandoned = try XCTUnwrap(status["abandoned"] as? [String: Any])
        let withdrawn = try XCTUnwrap(abandoned["texts"] as? Int)
        XCTAssertGreaterThan(withdrawn, 0, "\(status)")
        XCTAssertGreaterThan(abandoned["requests"] as? Int ?? 0, 0, "\(status)")
        let batched = try XCTUnwrap(status["batched_texts"] as? Int)
        XCTAssertLessThan(batched, requests * textsPerRequest + 20, "withdrawn texts were not computed: \(status)")
        XCTAssertEqual(status["requests"] as? Int, 20 + (abandoned["requests"] as? Int).map { requests - $0 }!, "\(status)")
    }

    /// A client that sends and vanishes costs nothing; stop answers in-flight work and returns.
    func testVanishedClientAndGracefulStop() throws {
        let h = try ServerHarness()
        for i in 0..<20 {
            let s = try Socket(h.context, .req)
            try s.setLinger(0)
            try s.connect(h.tcp)
            try s.send([classifyRequest(["gone \(i)"]).json.bytes])
            s.close()
        }
        XCTAssertTrue(try h.call(#"{"id":"p","op":"ping"}"#).ok)
        let dealer = try Socket(h.context, .dealer)
        try dealer.setLinger(0)
        try dealer.connect(h.tcp)
        let before = try requestsRead(h)
        for i in 0..<30 { try dealer.send([[], classifyRequest(["late \(i)"], id: "\(i)").json.bytes]) }
        try waitUntilRead(h, requests: 30, since: before)
        h.stop()
        // Every request sent before the stop got an answer: a result or `unavailable`.
        try dealer.setReceiveTimeout(2000)
        var answered = 0
        while let reply = try? dealer.receive() {
            let object = try JSONSerialization.jsonObject(with: Data(reply.frames.last!)) as! [String: Any]
            XCTAssertTrue(object.ok || object.errorCode == "unavailable", "\(object)")
            answered += 1
        }
        XCTAssertEqual(answered, 30)
        dealer.close()
    }

    /// Requests bertd has read from clients so far: in flight, answered after computing, or
    /// withdrawn because their client left.
    private func requestsRead(_ h: ServerHarness) throws -> Int {
        let status = try h.call(#"{"id":"s","op":"status"}"#).result
        let inFlight = (status["queue"] as? [String: Any])?["requests_in_flight"] as? Int ?? 0
        let abandoned = (status["abandoned"] as? [String: Any])?["requests"] as? Int ?? 0
        return inFlight + (status["requests"] as? Int ?? 0) + abandoned
    }

    /// Waits until bertd has read `requests` more requests than `since` (a `requestsRead`).
    private func waitUntilRead(_ h: ServerHarness, requests: Int, since: Int, timeout: TimeInterval = 30) throws {
        let until = Date(timeIntervalSinceNow: timeout)
        while Date() < until {
            if try requestsRead(h) - since >= requests { return }
            Thread.sleep(forTimeInterval: 0.005)
        }
        XCTFail("bertd did not read \(requests) requests within \(timeout) s")
    }
}
