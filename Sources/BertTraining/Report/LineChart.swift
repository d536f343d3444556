/// A line chart over epochs: axes with ticks, one polyline (and optional dots) per series, a
/// legend, and an optional marker (the kept epoch).
struct LineChart {
    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        var width: Double = 2
        var dots = true
        var opacity = 1.0
        /// Print each dot's value above it (few points only).
        var labelValues = false
    }

    var title: String
    var xLabel = "epoch"
    var series: [Series]
    var marker: (x: Double, label: String)?
    /// Off where a table beside the chart names the series (a sweep's many runs).
    var showsLegend = true

    func draw(into svg: inout SVGDocument, x: Double, y: Double, width: Double, height: Double) {
        svg.text(x, y + 14, title, size: 15, bold: true)
        let plot = (x: x + 56, y: y + 30, w: width - 70, h: height - 92)
        svg.rect(plot.x, plot.y, plot.w, plot.h, fill: "#fafafa", stroke: "#cccccc")
        let all = series.flatMap(\.points).filter { $0.y.isFinite }
        guard !all.isEmpty else {
            svg.text(plot.x + plot.w / 2, plot.y + plot.h / 2, "no data", size: 13, anchor: .middle, fill: "#888")
            return
        }
        var (x0, x1) = (min(0, all.map(\.x).min()!), all.map(\.x).max()!)
        if x1 <= x0 { x1 = x0 + 1 }
        var (y0, y1) = (all.map(\.y).min()!, all.map(\.y).max()!)
        let pad = y1 > y0 ? (y1 - y0) * 0.08 : max(abs(y0) * 0.1, 0.05)
        (y0, y1) = (y0 - pad, y1 + pad)
        let px = { (v: Double) in plot.x + (v - x0) / (x1 - x0) * plot.w }
        let py = { (v: Double) in plot.y + plot.h - (v - y0) / (y1 - y0) * plot.h }

        for tick in niceTicks(y0, y1) {
            svg.line(plot.x, py(tick), plot.x + plot.w, py(tick), stroke: "#e4e4e4")
            svg.text(plot.x - 6, py(tick) + 4, formatTick(tick), size: 11, anchor: .end, fill: "#555")
        }
        for tick in niceTicks(x0, x1, count: min(10, max(1, Int(x1 - x0)))) where tick == tick.rounded() {
            svg.line(px(tick), plot.y + plot.h, px(tick), plot.y + plot.h + 4, stroke: "#888")
            svg.text(px(tick), plot.y + plot.h + 17, formatTick(tick), size: 11, anchor: .middle, fill: "#555")
        }
        svg.text(plot.x + plot.w / 2, plot.y + plot.h + 33, xLabel, size: 12, anchor: .middle, fill: "#555")
        if let marker {
            svg.line(px(marker.x), plot.y, px(marker.x), plot.y + plot.h, stroke: "#2ca02c", width: 1.5, dash: "5,4")
            // The label goes on the side of the line with room for it.
            let right = px(marker.x) < plot.x + plot.w * 0.7
            svg.text(px(marker.x) + (right ? 4 : -4), plot.y + 13, marker.label, size: 11, anchor: right ? .start : .end, fill: "#2ca02c")
        }
        for s in series {
            let points = s.points.filter { $0.y.isFinite }
            svg.polyline(points.map { (px($0.x), py($0.y)) }, stroke: s.color, width: s.width, opacity: s.opacity)
            guard s.dots else { continue }
            for p in points {
                svg.circle(px(p.x), py(p.y), r: 3.5, fill: s.color, title: "\(s.name), \(xLabel) \(formatMetric(p.x)): \(formatMetric(p.y))")
                if s.labelValues { svg.text(px(p.x), py(p.y) + 16, formatMetric(p.y), size: 10, anchor: .middle, fill: s.color) }
            }
        }
        // Legend under the x label, one entry per series.
        guard showsLegend else { return }
        var lx = plot.x
        for s in series {
            svg.line(lx, y + height - 6, lx + 18, y + height - 6, stroke: s.color, width: 3)
            svg.text(lx + 23, y + height - 2, s.name, size: 12)
            lx += 34 + Double(s.name.count) * 6.5
        }
    }

    private func formatTick(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e6 ? String(Int(v)) : String(format: "%.3g", v)
    }
}
