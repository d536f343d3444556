import BertProtocol
import Foundation
import ZeroMQ

/// Follows one bertd training job to its end: its `job.*` events drive the progress line, and
/// `jobs` is asked now and then, since PUB drops events for a subscriber that is not keeping up
/// (or when there is no events socket to read).
struct JobFollower {
    let daemon: DaemonOptions
    let eventsEndpoint: String

    /// Subscribes before the job is submitted, so that no event of it is missed.
    final class Subscription {
        let socket: Socket?
        private let context: Context
        init(endpoint: String) throws {
            context = try Context(ioThreads: 1)
            let path = endpoint.hasPrefix("ipc://") ? String(endpoint.dropFirst("ipc://".count)) : nil
            if let path, !path.hasPrefix("@"), !FileManager.default.fileExists(atPath: path) {
                socket = nil  // no events socket: follow by asking
                return
            }
            let s = try Socket(context, .sub)
            try s.setLinger(0)
            try s.subscribe("job.")
            try s.connect(endpoint)
            socket = s
            Thread.sleep(forTimeInterval: 0.2)  // let the subscription reach bertd
        }
        deinit { socket?.close() }
    }

    enum Outcome {
        case finished([String: Any])
        case ended(state: String, message: String)
    }

    func follow(job id: String, subscription: Subscription) throws -> Outcome {
        let bar = ProgressBar()
        var poller = Poller()
        if let socket = subscription.socket { poller.add(.socket(socket)) }
        // The job's record is asked when its last event came, and otherwise every few seconds
        // of silence (an event may have been dropped); the record decides when it is over.
        var quietSince = Date()
        while true {
            var ended = false
            if let socket = subscription.socket, try !poller.poll(timeoutMs: 1000).isEmpty {
                while let m = try socket.receive(dontWait: true), m.frames.count == 2 {
                    guard let e = try? JSONSerialization.jsonObject(with: Data(m.frames[1])) as? [String: Any],
                          e["job"] as? String == id else { continue }
                    quietSince = Date()
                    switch String(decoding: m.frames[0], as: UTF8.self) {
                    case "job.step": Self.showStep(e, bar)
                    case "job.eval":
                        if let metrics = e["metrics"] as? [String: Any] {
                            Self.showEvaluation(metrics, epoch: e["epoch"] as? Int ?? 0, epochs: e["epochs"] as? Int ?? 0, bar)
                        }
                    case "job.finished", "job.failed", "job.cancelled", "job.interrupted": ended = true
                    default: break
                    }
                }
            } else if subscription.socket == nil {
                Thread.sleep(forTimeInterval: 1)
            }
            if ended || subscription.socket == nil || Date().timeIntervalSince(quietSince) >= 3 {
                quietSince = Date()
                let job = try daemon.call(DaemonOptions.newRequest(.jobs(id: id)))["job"] as? [String: Any] ?? [:]
                switch job["state"] as? String {
                case "finished": return .finished(job)
                case "failed": return .ended(state: "failed", message: job["error"] as? String ?? "")
                case "cancelled": return .ended(state: "cancelled", message: "")
                case "interrupted": return .ended(state: "interrupted", message: "bertd stopped; the job resumes when it starts again")
                default:
                    if subscription.socket == nil, let p = job["progress"] as? [String: Any] { Self.showStep(p, bar) }
                }
            }
        }
    }

    private static func showStep(_ p: [String: Any], _ bar: ProgressBar) {
        func d(_ k: String) -> Double { (p[k] as? Double) ?? Double(p[k] as? Int ?? 0) }
        bar.step(epoch: p["epoch"] as? Int ?? 0, epochs: p["epochs"] as? Int ?? 0, step: p["step"] as? Int ?? 0,
                 totalSteps: p["total_steps"] as? Int ?? 0, loss: d("loss"), learningRate: d("learning_rate"),
                 examplesPerSecond: d("examples_per_s"), secondsLeft: d("seconds_left"))
    }

    private static func showEvaluation(_ m: [String: Any], epoch: Int, epochs: Int, _ bar: ProgressBar) {
        func d(_ k: String) -> Double { (m[k] as? Double) ?? Double(m[k] as? Int ?? 0) }
        bar.evaluation(epoch: epoch, epochs: epochs, loss: d("loss"), accuracy: d("accuracy"), macroF1: d("macro_f1"), rocAUC: m["roc_auc"] as? Double)
    }
}
