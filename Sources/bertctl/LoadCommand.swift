import ArgumentParser
import BertProtocol
import Foundation

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load (or replace) a model directory under a name, without restarting bertd.",
        discussion: """
        Requests already queued finish on the previous version. Needs the admin (ipc) endpoint.
          bertctl load sentiment /var/lib/bertd/models/sst2
          bertctl load sentiment /var/lib/bertd/models/sst2 --precision int8   # after bertctl quantize passed
          bertctl load reviews /var/lib/bertd/models/imdb --window 512 --stride 128  # long texts in windows
        """)

    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "The name to serve it under.") var name: String
    @Argument(help: "The model directory, as bertd sees it.") var path: String
    @Option(help: "fp32, or int8 (needs a passed quality gate in the directory: bertctl quantize).") var precision: String?
    @Flag(help: "With --precision int8: load without a passed quality gate.") var force = false
    @OptionGroup(title: "Long documents (default: the model's config.json long_documents, else truncation)") var windows: WindowOptions
    @Flag(help: "Print the result as one JSON line.") var json = false

    func validate() throws {
        if let precision, !RequestParser.precisions.contains(precision) {
            throw ValidationError("--precision must be one of \(RequestParser.precisions.joined(separator: ", "))")
        }
    }

    func run() throws {
        // A relative path means the caller's directory; bertd's working directory differs.
        let directory = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let result = try daemon.call(DaemonOptions.newRequest(.load(name: name, path: directory, precision: precision, force: force,
                                                                            longDocuments: windows.settings)))
        if json { return ResultPrinter.print(result, json: true) }
        let m = result["loaded"] as? [String: Any] ?? [:]
        print("loaded \(m["name"] ?? name) v\(m["version"] ?? "?") (\(m["family"] ?? "?"), \(m["precision"] ?? "fp32")) from \(m["path"] ?? path)")
    }
}
