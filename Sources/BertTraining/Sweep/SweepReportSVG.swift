import Foundation

/// sweep_report.svg: the sweep on one page a browser opens — every run's validation curve on
/// one chart (the selection metric; the loss beside it), coloured by its configuration's rank,
/// the best configuration drawn thickest, and the ranked table, whose colour swatches are the
/// charts' legend.
public enum SweepReportSVG {
    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public static func render(_ report: SweepReport) -> String {
        let columns = tableColumns(report)
        let tableWidth = columns.last.map { $0.x + $0.width } ?? 0
        let tableTop = 430.0
        let footer = report.skipped.isEmpty ? 0.0 : 40
        var svg = SVGDocument(width: max(1000, tableWidth + 40), height: tableTop + 40 + 22 * Double(report.rows.count) + footer + 20)

        svg.text(24, 34, "Hyper-parameter sweep · \(report.metric.rawValue)", size: 20, bold: true)
        svg.text(24, 58, summary(report), size: 13, fill: "#444")

        let metricChart = chart(report, title: "Validation \(report.metric.rawValue)") { $0.metric }
        if report.metric == .loss {
            metricChart.draw(into: &svg, x: 20, y: 80, width: 960, height: 320)
        } else {
            metricChart.draw(into: &svg, x: 20, y: 80, width: 480, height: 320)
            chart(report, title: "Validation loss") { $0.loss }.draw(into: &svg, x: 510, y: 80, width: 480, height: 320)
        }
        drawTable(report, columns: columns, into: &svg, y: tableTop)
        if !report.skipped.isEmpty {
            let y = tableTop + 40 + 22 * Double(report.rows.count) + 16
            svg.text(24, y, "Skipped by the time budget (a rerun of the command trains them):", size: 12, bold: true, fill: "#a33")
            svg.text(24, y + 18, shortened(report.skipped.joined(separator: ", "), toFit: 160), size: 12, fill: "#a33")
        }
        return svg.rendered()
    }

    /// One series per run, in its row's colour.
    static func chart(_ report: SweepReport, title: String, value: (SweepPointRecord.EpochValue) -> Double?) -> LineChart {
        var series: [LineChart.Series] = []
        // The best row last, so it is drawn on top.
        for (n, row) in report.rows.enumerated().reversed() {
            for run in row.runs {
                let points = run.epochs.compactMap { e in value(e).map { (x: Double(e.epoch), y: $0) } }
                series.append(.init(name: run.name, color: colors[n % colors.count], points: points, width: n == 0 ? 3 : 1.5,
                                    dots: points.count <= 12, opacity: n == 0 ? 1 : 0.7))
            }
        }
        return LineChart(title: title, series: series, marker: nil, showsLegend: false)
    }

    static func summary(_ report: SweepReport) -> String {
        var parts = [report.search]
        if let best = report.best {
            parts.append("best \(report.metric.rawValue) \(formatMetric(best.value)): \(best.run) (copied to best/)")
        }
        if !report.skipped.isEmpty { parts.append("\(report.skipped.count) runs skipped") }
        parts.append(SweepReport.duration(report.rows.map(\.seconds).reduce(0, +)) + " of training")
        return parts.joined(separator: " · ")
    }

    struct Column {
        var title: String
        var x: Double
        var width: Double
        var cell: (SweepReport.Row) -> String
    }

    /// Rank, one column per axis, the metric (mean ± sd, each seed's value), best epochs,
    /// epochs trained, time and status: each as wide as its longest text.
    static func tableColumns(_ report: SweepReport) -> [Column] {
        let seeds = report.rows.map(\.runs.count).max() ?? 1
        var specs: [(String, (SweepReport.Row) -> String)] = [("rank", { $0.rank.map { "\($0)" } ?? "–" })]
        for axis in report.axes { specs.append((axis, { $0.values[axis] ?? "" })) }
        specs.append((seeds > 1 ? "\(report.metric.rawValue) mean ± sd" : report.metric.rawValue, { row in
            formatMetric(row.mean) + (row.sd.map { " ± " + formatMetric($0) } ?? "")
        }))
        if seeds > 1 {
            specs.append(("per seed", { row in row.runs.map { formatMetric($0.best) }.joined(separator: ", ") }))
        }
        specs.append(("best epoch", { row in
            let epochs = row.runs.compactMap(\.bestEpoch).map(String.init)
            return epochs.isEmpty ? "–" : epochs.joined(separator: ", ")
        }))
        specs.append(("epochs", { row in String(row.runs.map { $0.epochs.last?.epoch ?? 0 }.max() ?? 0) }))
        specs.append(("time", { SweepReport.duration($0.seconds) }))
        specs.append(("status", { $0.statusText }))
        var x = 48.0
        return specs.map { title, cell in
            let chars = ([title] + report.rows.map(cell)).map(\.count).max() ?? 0
            defer { x += Double(chars) * 7 + 22 }
            return Column(title: title, x: x, width: Double(chars) * 7, cell: cell)
        }
    }

    static func drawTable(_ report: SweepReport, columns: [Column], into svg: inout SVGDocument, y: Double) {
        svg.text(24, y + 14, "Configurations, best first", size: 15, bold: true)
        var row = y + 40
        for c in columns { svg.text(c.x, row, c.title, size: 12, bold: true, fill: "#555") }
        let right = (columns.last.map { $0.x + $0.width } ?? 400) + 8
        for (n, r) in report.rows.enumerated() {
            row += 22
            if n == 0, r.rank != nil { svg.rect(20, row - 15, right - 20, 21, fill: "#eef7ee") }
            svg.line(20, row - 16, right, row - 16, stroke: "#eeeeee")
            svg.rect(26, row - 10, 14, 8, fill: colors[n % colors.count], title: r.name)
            for c in columns { svg.text(c.x, row, c.cell(r), size: 12, bold: n == 0 && r.rank != nil) }
        }
    }
}
