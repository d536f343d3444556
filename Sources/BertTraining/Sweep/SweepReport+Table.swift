import Foundation

extension SweepReport {
    /// The report as a text table, best first, for a terminal:
    ///
    ///     rank  lr     batch-size  macro_f1 ± sd    best epoch  epochs  time   status
    ///        1  5e-05  16          0.9120 ± 0.0100  3           3       1m12s  finished
    public func table() -> String {
        let seeds = rows.map(\.runs.count).max() ?? 1
        let header = ["rank"] + axes + [seeds > 1 ? "\(metric.rawValue) ± sd" : metric.rawValue, "best epoch", "epochs", "time", "status"]
        let body = rows.map { row -> [String] in
            var value = formatMetric(row.mean)
            if seeds > 1, let sd = row.sd { value += " ± " + formatMetric(sd) }
            let bestEpochs = row.runs.compactMap(\.bestEpoch).map(String.init).joined(separator: ",")
            let trained = row.runs.map { $0.epochs.last?.epoch ?? 0 }.max() ?? 0
            return [row.rank.map(String.init) ?? "-"] + axes.map { row.values[$0] ?? "" }
                + [value, bestEpochs.isEmpty ? "-" : bestEpochs, String(trained), Self.duration(row.seconds), row.statusText]
        }
        let widths = header.indices.map { c in ([header] + body).map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return c == 0 ? pad + text : text + pad  // the rank right-aligned
            }.joined(separator: "  ").replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        }
        var lines = ([header] + body).map(line)
        if !skipped.isEmpty { lines.append("skipped (time budget; rerun the command to train them): " + skipped.joined(separator: ", ")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "3m12s", "41.2s".
    static func duration(_ seconds: Double) -> String {
        guard seconds >= 60 else { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : "\(s / 60)m\(s % 60)s"
    }
}

extension SweepReport.Row {
    /// "finished", "halved after 2 epochs", …
    public var statusText: String {
        switch status {
        case .finished: return runs.contains(where: \.stoppedEarly) ? "finished (stopped early)" : "finished"
        case .halved: return "halved out after \(halvedAfterEpochs ?? 0) epoch\(halvedAfterEpochs == 1 ? "" : "s")"
        case .paused: return "paused"
        case .skipped: return "skipped (time budget)"
        case .notRun: return "not run"
        }
    }
}
