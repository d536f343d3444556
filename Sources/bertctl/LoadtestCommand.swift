import ArgumentParser
import BertCore
import BertProtocol
import Foundation
import ZeroMQ

struct LoadtestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Measure a running bertd: N concurrent clients sending single-text requests.",
        discussion: """
        Each client is a thread with its own REQ socket, sending the next text as soon as its \
        previous reply arrives (closed loop). Prints req/s, latency p50/p90/p99/max, and errors \
        by code; --json prints one JSON object. The load comes from this machine: on the same \
        host it shares the CPU with bertd. \
        Example:
          bertctl loadtest --clients 32 --requests 4000 --texts ../shared/data/sst2/dev.tsv --labels positive,negative
        """)

    @OptionGroup var daemon: DaemonOptions

    @Option(help: "Concurrent clients.") var clients = 32
    @Option(help: "Requests in all.") var requests = 2000
    @Option(help: "A text<TAB>label TSV with a header; its texts are sent in order, round robin.") var texts: String
    @Option(help: "The daemon's model (default: its default model).") var model: String?
    @Option(help: "Zero-shot labels, for an embedding model.") var labels: String?
    @Flag(help: "Send embed requests instead of classify.") var embed = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if clients < 1 || requests < 1 { throw ValidationError("--clients and --requests must be at least 1") }
    }

    func run() throws {
        let corpus = try TSVTexts.read(path: texts)
        guard !corpus.isEmpty else { throw CommandFailure(description: "\(texts) has no texts") }
        let endpoint = DaemonClient.resolveEndpoint(daemon.endpoint)
        let context = try Context(ioThreads: 1)
        let labelList = labels?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let state = LoadState(total: requests)
        let start = monotonicSeconds()
        // One real thread per client (concurrentPerform would run only as many as there are cores).
        let finished = DispatchGroup()
        for client in 0..<clients {
            finished.enter()
            let thread = Thread { [self] in
                defer { finished.leave() }
                runClient(client, context: context, endpoint: endpoint, corpus: corpus, labels: labelList, state: state)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        finished.wait()
        let elapsed = monotonicSeconds() - start
        report(state: state, elapsed: elapsed)
    }

    /// One closed-loop client: send, wait for the reply (or a timeout), record, repeat.
    private func runClient(_ client: Int, context: Context, endpoint: String, corpus: [String], labels labelList: [String]?,
                           state: LoadState) {
        do {
            var socket = try Socket(context, .req)
            try socket.setLinger(0)
            try socket.connect(endpoint)
            while let n = state.next() {
                let texts = Inference(texts: [corpus[n % corpus.count]], model: model, labels: embed ? nil : labelList)
                let request = Request(id: .string("\(client)-\(n)"), embed ? .embed(texts) : .classify(texts))
                let sent = monotonicSeconds()
                try socket.send([request.json.bytes])
                var poller = Poller()
                poller.add(.socket(socket))
                if try poller.poll(timeoutMs: daemon.timeout).isEmpty {
                    state.record(latency: nil, code: "timeout")
                    socket.close()  // Lazy Pirate: a REQ socket that timed out is unusable
                    socket = try Socket(context, .req)
                    try socket.setLinger(0)
                    try socket.connect(endpoint)
                    continue
                }
                let reply = try socket.receive()?.frames.last ?? []
                let latency = monotonicSeconds() - sent
                do {
                    _ = try DaemonClient.result(of: reply)
                    guard Self.replyId(reply) == "\(client)-\(n)" else { state.record(latency: nil, code: "mismatched_id"); continue }
                    state.record(latency: latency, code: nil)
                } catch let failure as DaemonClient.Failure {
                    if case .replied(let e) = failure { state.record(latency: nil, code: e.code.rawValue) } else { state.record(latency: nil, code: "malformed") }
                }
            }
            socket.close()
        } catch {
            state.record(latency: nil, code: "client_error")
        }
    }

    private static func replyId(_ bytes: [UInt8]) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["id"] as? String
    }

    private func report(state: LoadState, elapsed: Double) {
        let (latencies, errors) = state.results
        let sorted = latencies.sorted()
        func q(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)] * 1000 }
        let ok = sorted.count
        let fields: [(String, JSON)] = [
            ("clients", .int(clients)), ("requests", .int(requests)), ("ok", .int(ok)),
            ("seconds", .number(elapsed)), ("requests_per_s", .number(Double(ok) / elapsed)),
            ("latency_ms", .object([("p50", .number(q(0.5))), ("p90", .number(q(0.9))), ("p99", .number(q(0.99))), ("max", .number(q(1)))])),
            ("errors", .object(errors.sorted { $0.key < $1.key }.map { ($0.key, JSON.int($0.value)) })),
        ]
        if json { return print(JSON.object(fields).text) }
        print(String(format: "%d clients, %d requests in %.2f s: %.1f req/s", clients, requests, elapsed, Double(ok) / elapsed))
        print(String(format: "latency ms  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f", q(0.5), q(0.9), q(0.99), q(1)))
        print("errors      " + (errors.isEmpty ? "none" : errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))
    }
}

/// The shared counter of requests to send and the results, across client threads.
private final class LoadState: @unchecked Sendable {
    private let lock = NSLock()
    private var issued = 0
    private let total: Int
    private var latencies: [Double] = []
    private var errors: [String: Int] = [:]

    init(total: Int) { self.total = total }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard issued < total else { return nil }
        issued += 1
        return issued - 1
    }

    func record(latency: Double?, code: String?) {
        lock.lock(); defer { lock.unlock() }
        if let latency { latencies.append(latency) }
        if let code { errors[code, default: 0] += 1 }
    }

    var results: ([Double], [String: Int]) { lock.lock(); defer { lock.unlock() }; return (latencies, errors) }
}

