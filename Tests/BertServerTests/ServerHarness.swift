import BertProtocol
import BertServer
import Foundation
import XCTest
import ZeroMQ

/// The server in-process on real sockets: a TCP endpoint on a free port (public operations) and
/// an ipc endpoint (everything), no events unless asked. Requests go through real REQ/DEALER
/// sockets.
final class ServerHarness {
    let server: BertServer
    let endpoints: [String]
    let runtimeDirectory: String
    private let thread: Thread
    private let finished = DispatchSemaphore(value: 0)
    let context: Context

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tinyBert = packageRoot.appendingPathComponent("Tests/BertCoreTests/Fixtures/tiny-bert").path
    static let tinyDistilBert = packageRoot.appendingPathComponent("Tests/BertCoreTests/Fixtures/tiny-distilbert").path

    init(models: [(String, String)] = [("tiny", ServerHarness.tinyBert)], events: Bool = false,
         configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        runtimeDirectory = NSTemporaryDirectory() + "bertd-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: runtimeDirectory, withIntermediateDirectories: true)
        var c = ServerConfiguration.defaults(environment: ["RUNTIME_DIRECTORY": runtimeDirectory, "STATE_DIRECTORY": runtimeDirectory])
        c.endpoints = [
            .init(address: "tcp://127.0.0.1:*", operations: ServerConfiguration.publicOperations),
            .init(address: "ipc://\(runtimeDirectory)/bertd.sock", operations: ["*"]),
        ]
        c.eventsEndpoint = events ? "ipc://\(runtimeDirectory)/events.sock" : ""
        c.models = models.map { .init(name: $0.0, path: $0.1) }
        c.defaultModel = models.first?.0 ?? ""
        c.statusIntervalMs = 100
        c.shutdownGraceMs = 3000
        configure(&c)
        let configuration = c
        server = try BertServer(configuration: configuration, log: Logger(level: .warning))
        let s = server
        let failure = StartFailure()
        let done = finished
        thread = Thread {
            do { try s.run() } catch { failure.set(error) }
            done.signal()
        }
        thread.start()
        guard let bound = server.waitUntilReady(timeout: 30) else {
            finished.wait()
            throw failure.error ?? ServerError2("the server did not become ready")
        }
        endpoints = bound
        context = try Context()
    }

    /// What run() threw, handed from the server's thread to the test's.
    private final class StartFailure: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Error?
        func set(_ e: Error) { lock.lock(); stored = e; lock.unlock() }
        var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    }

    var tcp: String { endpoints[0] }
    var ipc: String { endpoints[1] }

    /// Stops the server and waits for run() to return.
    func stop(file: StaticString = #filePath, line: UInt = #line) {
        server.requestStop()
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success, "run() did not return", file: file, line: line)
        try? FileManager.default.removeItem(atPath: runtimeDirectory)
    }

    /// One request through a fresh REQ socket; returns the reply object.
    func call(_ body: String, endpoint: String? = nil, timeoutMs: Int = 10_000) throws -> [String: Any] {
        let socket = try Socket(context, .req)
        try socket.setLinger(0)
        try socket.connect(endpoint ?? tcp)
        defer { socket.close() }
        try socket.send([body])
        var poller = Poller()
        poller.add(.socket(socket))
        guard try !poller.poll(timeoutMs: timeoutMs).isEmpty, let reply = try socket.receive() else {
            throw ServerError2("no reply within \(timeoutMs) ms to \(body.prefix(100))")
        }
        return try JSONSerialization.jsonObject(with: Data(reply.frames.last!)) as! [String: Any]
    }

    func call(_ request: Request, endpoint: String? = nil) throws -> [String: Any] {
        try call(request.json.text, endpoint: endpoint)
    }
}

struct ServerError2: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension Dictionary where Key == String, Value == Any {
    var ok: Bool { self["ok"] as? Bool ?? false }
    var errorCode: String? { (self["error"] as? [String: Any])?["code"] as? String }
    var result: [String: Any] { self["result"] as? [String: Any] ?? [:] }
}

func classifyRequest(_ texts: [String], id: String = "t", model: String? = nil, deadlineMs: Int? = nil) -> Request {
    Request(id: .string(id), .classify(Inference(texts: texts, model: model, deadlineMs: deadlineMs)))
}

extension ServerHarness {
    /// A SUB socket on the daemon's events for `topics`, returned once the daemon's PUB socket
    /// has the subscription (PUB/SUB's slow joiner), so no event published after it is lost.
    /// The probe: `load`s of a path that does not exist, each published as a model.load_failed
    /// event naming its path, repeated until one arrives. Every probe sent after the first that
    /// arrived must arrive too, so they are all read off before returning: the test sees none.
    func subscribe(_ topics: [String], timeout: TimeInterval = 30) throws -> Socket {
        let sub = try Socket(context, .sub)
        try sub.setLinger(0)
        for topic in topics { try sub.subscribe(topic) }
        let probeTopic = "model.load_failed", probeAdded = !topics.contains { probeTopic.hasPrefix($0) }
        if probeAdded { try sub.subscribe(probeTopic) }
        try sub.connect("ipc://\(runtimeDirectory)/events.sock")
        var poller = Poller()
        poller.add(.socket(sub))
        let until = Date(timeIntervalSinceNow: timeout)
        var sent: [String] = [], lastArrived: String?
        func read(for seconds: TimeInterval) throws {
            let readBy = Date(timeIntervalSinceNow: seconds)
            while Date() < readBy, try !poller.poll(timeoutMs: 5).isEmpty, let m = try sub.receive(dontWait: true) {
                let body = String(decoding: m.frames.last ?? [], as: UTF8.self)
                if let probe = sent.last(where: body.contains) { lastArrived = probe }
            }
        }
        while lastArrived == nil && Date() < until {
            sent.append("/nonexistent/subscription-probe-\(UUID().uuidString)")
            _ = try call(#"{"id":"probe","op":"load","name":"probe","path":"\#(sent.last!)"}"#, endpoint: ipc)
            try read(for: 0.05)
        }
        guard lastArrived != nil else { throw ServerError2("the events subscription did not reach bertd within \(timeout) s") }
        while lastArrived != sent.last && Date() < until { try read(for: 0.05) }
        if probeAdded { try sub.unsubscribe(probeTopic) }
        return sub
    }
}
