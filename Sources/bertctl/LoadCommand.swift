import ArgumentParser
import Foundation

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load (or replace) a model directory under a name, without restarting bertd.",
        discussion: "Requests already queued finish on the previous version. Needs the admin (ipc) endpoint.\n  bertctl load sentiment /var/lib/bertd/models/sst2")

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The name to serve it under.") var name: String
    @Argument(help: "The model directory, as bertd sees it.") var path: String
    @Flag(help: "Print the result as one JSON line.") var json = false

    func run() throws {
        // A relative path means the caller's directory; bertd's working directory differs.
        let directory = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let result = try daemon.call(DaemonOptions.newRequest(.load(name: name, path: directory)))
        if json { return ResultPrinter.print(result, json: true) }
        let m = result["loaded"] as? [String: Any] ?? [:]
        print("loaded \(m["name"] ?? name) v\(m["version"] ?? "?") (\(m["family"] ?? "?")) from \(m["path"] ?? path)")
    }
}
