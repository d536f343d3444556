import ArgumentParser
import Foundation

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "The models bertd serves.")

    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "Print the result as one JSON line.") var json = false

    func run() throws {
        let result = try daemon.call(DaemonOptions.newRequest(.models))
        if json { return ResultPrinter.print(result, json: true) }
        let def = result["default"] as? String ?? ""
        let rows = (result["models"] as? [[String: Any]] ?? []).map { m -> [String] in
            let name = m["name"] as? String ?? "?"
            let labels = (m["labels"] as? [String] ?? [])
            // Long texts: windows of N tokens sharing S, aggregated; else cut at the model's maximum
            // (a linear baseline, max_length 0, reads any length whole).
            let long = (m["long_documents"] as? [String: Any]).map { d in
                "windows \(d["window"] ?? "?")/\(d["stride"] ?? "?") \(d["aggregate"] ?? "?")"
            } ?? ((m["max_length"] as? Int) == 0 ? "whole" : "truncate")
            return [name + (name == def ? " *" : ""), "v\(m["version"] ?? "?")", m["family"] as? String ?? "?",
                    "\(((m["parameters"] as? Int) ?? 0) / 1_000_000)M", m["precision"] as? String ?? "fp32", long,
                    labels.isEmpty ? "(embeddings; zero-shot)" : labels.joined(separator: ","), m["path"] as? String ?? ""]
        }
        printTable(header: ["NAME", "VERSION", "FAMILY", "PARAMS", "PRECISION", "LONG TEXTS", "LABELS", "PATH"], rows: rows)
    }
}

/// Columns padded to their widest cell.
func printTable(header: [String], rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
    for row in all {
        print(row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}
