import ArgumentParser
import Foundation
import ZeroMQ

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print bertd's events as they happen (models loaded and unloaded; training jobs).",
        discussion: """
        Subscribes to the daemon's PUB socket and prints one line per event: time, topic and \
        fields, or the event's JSON object with --json. Events published before the subscription \
        reaches the daemon are not seen; the current state is always available from `models` \
        and `status`. Examples:
          bertctl watch
          bertctl watch --topic model. --json --count 1
        """)

    @Option(help: "bertd's events endpoint (default: $BERTD_EVENTS, else ipc:///run/bertd/events.sock).")
    var events: String?

    @Option(help: "Only topics with this prefix (repeatable; default: every topic).")
    var topic: [String] = []

    @Option(help: "Exit after this many events.")
    var count: Int?

    @Option(help: "Exit after this many seconds (default: run until interrupted).")
    var seconds: Double?

    @Flag(help: "Print each event's JSON object, one per line.")
    var json = false

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if let seconds, seconds <= 0 { throw ValidationError("--seconds must be positive") }
    }

    func run() throws {
        let endpoint = Self.resolveEvents(events)
        // A SUB socket connects to an absent ipc path without complaint and waits forever;
        // a missing socket file is the one failure we can name at once.
        if endpoint.hasPrefix("ipc://") {
            let path = String(endpoint.dropFirst("ipc://".count))
            if !path.hasPrefix("@") && !FileManager.default.fileExists(atPath: path) {
                FileHandle.standardError.write(Data("Error: no events socket at \(path) (is bertd running? see --events)\n".utf8))
                throw ExitCode(3)
            }
        }
        let context = try Context(ioThreads: 1)
        let socket = try Socket(context, .sub)
        defer { socket.close() }
        try socket.setLinger(0)
        for prefix in topic.isEmpty ? [""] : topic { try socket.subscribe(prefix) }
        try socket.connect(endpoint)

        let until = seconds.map { Date(timeIntervalSinceNow: $0) }
        var seen = 0
        var poller = Poller()
        poller.add(.socket(socket))
        while count.map({ seen < $0 }) ?? true {
            let left = until.map { $0.timeIntervalSinceNow } ?? 1
            if left <= 0 { break }
            guard try !poller.poll(timeoutMs: Int(min(left, 1) * 1000)).isEmpty,
                  let message = try socket.receive(dontWait: true), message.frames.count == 2 else { continue }
            print(Self.render(topic: message.frames[0], body: message.frames[1], json: json))
            fflush(stdout)
            seen += 1
        }
    }

    static func resolveEvents(_ option: String?) -> String {
        if let option, !option.isEmpty { return option }
        if let env = ProcessInfo.processInfo.environment["BERTD_EVENTS"], !env.isEmpty { return env }
        return "ipc:///run/bertd/events.sock"
    }

    /// `time  topic  key=value …` (keys sorted), or the body itself for --json.
    static func render(topic: [UInt8], body: [UInt8], json: Bool) -> String {
        let text = String(decoding: body, as: UTF8.self)
        if json { return text }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return text }
        let keys = object.keys.filter { $0 != "event" && $0 != "time" }.sorted()
        let fields = keys.map { key -> String in
            let value = object[key]!
            if let s = value as? String { return "\(key)=\(s)" }
            if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) {
                return "\(key)=\(String(decoding: data, as: UTF8.self))"
            }
            return "\(key)=\(value)"
        }
        let time = object["time"] as? String ?? "-"
        return ([time, String(decoding: topic, as: UTF8.self)] + fields).joined(separator: "  ")
    }
}
