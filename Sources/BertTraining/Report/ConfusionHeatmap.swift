import Foundation

/// The confusion matrix as a heat-map table: rows are the true labels, columns the predicted
/// ones; each cell shows its count and its share of the row (the recall of the diagonal), and
/// its colour deepens with that share so errors stand out whatever the class sizes.
struct ConfusionHeatmap {
    var labels: [String]
    var confusion: [[Int]]

    /// The height the table needs at this cell size.
    static func cellSize(classes: Int) -> Double { max(26, min(64, 420 / Double(max(classes, 1)))) }

    func size() -> (width: Double, height: Double) {
        let cell = Self.cellSize(classes: labels.count)
        return (labelColumnWidth + cell * Double(labels.count) + 20, 70 + cell * Double(labels.count) + 40)
    }

    private var labelColumnWidth: Double { 50 + min(150, Double(labels.map(\.count).max() ?? 4) * 7.5) }

    func draw(into svg: inout SVGDocument, x: Double, y: Double) {
        let n = labels.count
        let cell = Self.cellSize(classes: n)
        let left = x + labelColumnWidth, top = y + 70
        svg.text(x, y + 14, "Confusion matrix (validation)", size: 15, bold: true)
        svg.text(left + cell * Double(n) / 2, y + 36, "predicted", size: 12, anchor: .middle, fill: "#555")
        svg.text(x + 10, top + cell * Double(n) / 2, "true", size: 12, anchor: .middle, fill: "#555", rotate: -90)
        // Names too long for a column become their ids, and each row says which id it is.
        let byIndex = labels.contains { $0.count > Int(cell / 7) }
        for (j, label) in labels.enumerated() {
            svg.text(left + (Double(j) + 0.5) * cell, top - 8, byIndex ? "\(j)" : label, size: 11, anchor: .middle)
        }
        for i in 0..<n {
            let rowTotal = max(confusion[i].reduce(0, +), 1)
            let name = short(labels[i], labelColumnWidth - (byIndex ? 46 : 26))
            svg.text(left - 6, top + (Double(i) + 0.5) * cell + 4, byIndex ? "\(name) · \(i)" : name, size: 11, anchor: .end)
            for j in 0..<n {
                let count = confusion[i][j]
                let share = Double(count) / Double(rowTotal)
                let cx = left + Double(j) * cell, cy = top + Double(i) * cell
                svg.rect(cx, cy, cell, cell, fill: Self.color(share, diagonal: i == j), stroke: "#ffffff",
                         title: "true \(labels[i]), predicted \(labels[j]): \(count) (\(percent(share)) of the row)")
                let ink = share > 0.55 ? "#ffffff" : "#222222"
                svg.text(cx + cell / 2, cy + cell / 2 + (cell >= 40 ? 0 : 4), "\(count)", size: cell >= 40 ? 14 : 11,
                         anchor: .middle, bold: i == j, fill: ink)
                if cell >= 40 {
                    svg.text(cx + cell / 2, cy + cell / 2 + 15, percent(share), size: 10, anchor: .middle, fill: ink)
                }
            }
        }
    }

    /// Blue on the diagonal (correct), red off it (errors), from white at 0 to full at 1.
    static func color(_ share: Double, diagonal: Bool) -> String {
        let t = min(max(share, 0), 1)
        let full: (Double, Double, Double) = diagonal ? (31, 90, 160) : (200, 50, 40)
        let mix = { (c: Double) in Int((255 + (c - 255) * t).rounded()) }
        return String(format: "#%02x%02x%02x", mix(full.0), mix(full.1), mix(full.2))
    }

    private func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }

    private func short(_ label: String, _ width: Double) -> String { shortened(label, toFit: max(3, Int(width / 7))) }
}
