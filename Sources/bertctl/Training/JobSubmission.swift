import ArgumentParser
import BertProtocol
import BertTraining
import Foundation

/// A training job sent to bertd (`train --name`, `sweep --name`): paths made absolute (bertd
/// reads them, as its own user), then, unless detached, followed to its end.
struct JobSubmission {
    let name: String
    let train: String
    let validation: String?
    let baseModel: String?
    let settings: [String: TrainingSettings.Value]
    let daemon: DaemonOptions
    let events: String?
    let detach: Bool
    let json: Bool

    func run() throws {
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        let request = DaemonOptions.newRequest(.train(TrainingRequest(
            name: name, train: absolute(train), validation: validation.map(absolute),
            options: settings.mapValues(Self.wire), baseModel: baseModel)))
        let follower = JobFollower(daemon: daemon, eventsEndpoint: WatchCommand.resolveEvents(events))
        let subscription = detach ? nil : try JobFollower.Subscription(endpoint: follower.eventsEndpoint)
        let job = try daemon.call(request)["job"] as? [String: Any] ?? [:]
        let id = job["id"] as? String ?? "?"
        FileHandle.standardError.write(Data("job \(id) queued in bertd: \(name) from \(job["model"] as? String ?? "?")\n".utf8))
        guard let subscription else {
            return print(id)
        }
        switch try follower.follow(job: id, subscription: subscription) {
        case .finished(let record):
            if json { return ResultPrinter.print(record, json: true) }
            let m = record["metrics"] as? [String: Any] ?? [:]
            print(String(format: "job %@ finished: accuracy %.4f  macro_f1 %.4f  loss %.4f", id,
                         m["accuracy"] as? Double ?? 0, m["macro_f1"] as? Double ?? 0, m["loss"] as? Double ?? 0))
            print("serving as \(name); output in \(record["output"] as? String ?? "?")")
        case .ended(let state, let message):
            FileHandle.standardError.write(Data("\njob \(id) \(state)\(message.isEmpty ? "" : ": " + message)\n".utf8))
            throw ExitCode(4)
        }
    }

    private static func wire(_ v: TrainingSettings.Value) -> TrainingValue {
        switch v {
        case .string(let s): return .string(s)
        case .integer(let i): return .integer(i)
        case .number(let d): return .number(d)
        case .bool(let b): return .bool(b)
        }
    }
}
