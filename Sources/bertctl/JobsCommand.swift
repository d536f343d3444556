import ArgumentParser
import Foundation

struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "bertd's training jobs: state, progress, metrics (admin endpoint).")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "One job's id (default: every job).") var job: String?
    @Flag(help: "Print the result as one JSON line.") var json = false

    func run() throws {
        let result = try daemon.call(DaemonOptions.newRequest(.jobs(id: job)))
        if json || job != nil { return ResultPrinter.print(result, json: json) }
        let rows = (result["jobs"] as? [[String: Any]] ?? []).map(Self.row)
        printTable(header: ["ID", "NAME", "STATE", "PROGRESS", "METRICS", "TRAIN"], rows: rows)
    }

    static func row(_ j: [String: Any]) -> [String] {
        var progress = "-"
        if let p = j["progress"] as? [String: Any], let step = p["step"] as? Int, let total = p["total_steps"] as? Int {
            progress = "epoch \(p["epoch"] ?? "?")/\(p["epochs"] ?? "?") step \(step)/\(total)"
        }
        var metrics = "-"
        if let m = j["metrics"] as? [String: Any], let accuracy = m["accuracy"] as? Double, let f1 = m["macro_f1"] as? Double {
            metrics = String(format: "accuracy %.4f macro_f1 %.4f", accuracy, f1)
        }
        var state = j["state"] as? String ?? "?"
        if j["cancel_requested"] as? Bool == true && state == "running" { state = "cancelling" }
        if let error = j["error"] as? String { state += ": " + error }
        return [j["id"] as? String ?? "?", j["name"] as? String ?? "?", state, progress, metrics, j["train"] as? String ?? ""]
    }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a training job: a queued one at once, a running one at its next step.")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The job's id.") var job: String

    func run() throws {
        let result = try daemon.call(DaemonOptions.newRequest(.cancel(job: job)))
        let j = result["job"] as? [String: Any] ?? [:]
        print("job \(job): \(j["state"] as? String == "cancelled" ? "cancelled before it started" : "cancel requested; it stops at its next step")")
    }
}
