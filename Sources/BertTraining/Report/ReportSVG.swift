import Foundation

/// training_report.svg: one self-contained picture of a run that a browser opens — the loss
/// curves, the selection metric per epoch, the kept checkpoint's confusion matrix and
/// per-class scores, and the configuration.
public enum ReportSVG {
    static let trainColor = "#1f77b4", validationColor = "#ff7f0e", metricColor = "#9467bd"

    public static func render(_ report: TrainingReport) -> String {
        let final = report.finalMetrics ?? report.epochs.last(where: { $0.validation != nil })?.validation
        // Multi-label and regression runs have no confusion matrix.
        let heatmap = final.flatMap { $0.confusion.isEmpty ? nil : ConfusionHeatmap(labels: report.labels, confusion: $0.confusion) }
        let lowerHeight = max(heatmap?.size().height ?? 0, 40 + 22 * Double(report.labels.count + 1) + 30
                              + 18 * Double(min(report.configuration.count, 14)) + 40)
        // The per-class table and the configuration sit right of the confusion matrix; a large
        // matrix widens the picture rather than overlapping them.
        let tableX = max(24 + (heatmap?.size().width ?? 0) + 30, 520)
        // A third row of curves (ROC, precision–recall, reliability; a scatter for regression).
        let curvesTop = 90 + 330 + lowerHeight + 10
        let curvesHeight = report.curves == nil ? 0.0 : 340
        var svg = SVGDocument(width: max(1000, tableX + 450), height: curvesTop + curvesHeight + 20)

        svg.text(24, 34, report.title, size: 20, bold: true)
        svg.text(24, 58, summary(report, final), size: 13, fill: "#444")

        let best = report.bestEpoch.map { (x: Double($0), label: "kept: epoch \($0)") }
        var loss = LineChart(title: "Loss", series: [], marker: best)
        if !report.steps.isEmpty {
            loss.series.append(.init(name: "train (per step)", color: trainColor, points: report.steps.map { ($0.epoch, $0.loss) },
                                     width: 1, dots: false, opacity: 0.45))
        }
        loss.series.append(.init(name: "train (epoch mean)", color: trainColor, points: report.epochs.map { (Double($0.epoch), $0.trainLoss) }))
        loss.series.append(.init(name: "validation", color: validationColor,
                                 points: report.epochs.compactMap { e in e.validation.map { (Double(e.epoch), $0.loss) } }))
        loss.draw(into: &svg, x: 20, y: 80, width: 480, height: 320)

        let metric = report.selectionMetric == .loss ? Metric.accuracy : report.selectionMetric
        let points = report.epochs.compactMap { e in e.validation?.value(of: metric).map { (x: Double(e.epoch), y: $0) } }
        var chart = LineChart(title: "Validation \(metric.rawValue)", series: [
            .init(name: "validation \(metric.rawValue)", color: metricColor, points: points, labelValues: points.count <= 12),
        ], marker: best)
        if metric != .accuracy {
            let accuracy = report.epochs.compactMap { e in e.validation.map { (x: Double(e.epoch), y: $0.accuracy) } }
            chart.series.append(.init(name: "accuracy", color: "#8c8c8c", points: accuracy, width: 1.5))
        }
        chart.draw(into: &svg, x: 510, y: 80, width: 480, height: 320)

        let lowerTop = 430.0
        if let heatmap {
            heatmap.draw(into: &svg, x: 24, y: lowerTop)
        } else {
            svg.text(24, lowerTop + 14, "No validation metrics were recorded.", size: 13, fill: "#888")
        }
        var y = lowerTop
        if let final { y = perClassTable(final, into: &svg, x: tableX, y: y) + 24 }
        configurationList(report, into: &svg, x: tableX, y: y)
        if let curves = report.curves { drawCurves(curves, into: &svg, y: curvesTop) }
        return svg.rendered()
    }

    static let curveColors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

    /// ROC, precision–recall and reliability side by side (regression: predicted against true).
    /// Many labels: the 8 best-supported curves are drawn (every area is in the JSON).
    static func drawCurves(_ c: EvaluationCurves, into svg: inout SVGDocument, y: Double) {
        func series(_ curves: [EvaluationCurves.Curve]) -> [LineChart.Series] {
            curves.prefix(8).enumerated().map { n, curve in
                LineChart.Series(name: "\(shortened(curve.label, toFit: 12)) \(formatMetric(curve.area))", color: curveColors[n % 8],
                                 points: curve.points.map { (x: $0[0], y: $0[1]) }, width: 1.5, dots: false)
            }
        }
        if !c.scatter.isEmpty {
            var scatter = LineChart(title: "Predicted against true (validation)", xLabel: "predicted", series: [
                .init(name: "examples", color: trainColor, points: c.scatter.map { (x: $0[0], y: $0[1]) }, width: 0, dots: true, opacity: 0.6),
            ])
            let values = c.scatter.flatMap { $0 }
            if let low = values.min(), let high = values.max() {
                scatter.series.append(.init(name: "y = x", color: "#8c8c8c", points: [(low, low), (high, high)], width: 1, dots: false))
            }
            scatter.draw(into: &svg, x: 20, y: y, width: 480, height: 330)
            return
        }
        LineChart(title: "ROC (validation)", xLabel: "false positive rate", series: series(c.roc)).draw(into: &svg, x: 20, y: y, width: 320, height: 330)
        LineChart(title: "Precision–recall", xLabel: "recall", series: series(c.precisionRecall)).draw(into: &svg, x: 350, y: y, width: 320, height: 330)
        let ece = c.expectedCalibrationError.map { " (ECE \(formatMetric($0)))" } ?? ""
        LineChart(title: "Reliability\(ece)", xLabel: "confidence", series: [
            .init(name: "observed", color: metricColor, points: c.reliability.map { (x: $0.confidence, y: $0.accuracy) }),
            .init(name: "perfect", color: "#8c8c8c", points: [(0, 0), (1, 1)], width: 1, dots: false),
        ]).draw(into: &svg, x: 680, y: y, width: 320, height: 330)
    }

    /// The one-line result: the kept epoch's scores, the run's time and throughput.
    static func summary(_ report: TrainingReport, _ final: ClassificationMetrics?) -> String {
        var parts: [String] = []
        if let final {
            parts.append("accuracy \(formatMetric(final.accuracy))")
            parts.append("macro F1 \(formatMetric(final.macroF1))")
            if let auc = final.rocAUC { parts.append("ROC-AUC \(formatMetric(auc))") }
            parts.append("loss \(formatMetric(final.loss))")
        }
        if let best = report.bestEpoch { parts.append("kept epoch \(best) of \(report.epochs.count)\(report.stoppedEarly ? " (stopped early)" : "")") }
        if let k = report.folds?.count, let s = report.foldSummary(report.selectionMetric) {
            parts.append("\(k)-fold \(report.selectionMetric.rawValue) \(formatMetric(s.mean)) ± \(formatMetric(s.sd))")
        }
        if report.timings.total > 0 { parts.append(String(format: "%.1f s", report.timings.total)) }
        if let rate = report.epochs.last?.examplesPerSecond { parts.append(String(format: "%.1f examples/s", rate)) }
        return parts.joined(separator: " · ")
    }

    /// Precision, recall, F1 and support per class, then the macro means. Returns the bottom y.
    static func perClassTable(_ m: ClassificationMetrics, into svg: inout SVGDocument, x: Double, y: Double) -> Double {
        svg.text(x, y + 14, "Per class", size: 15, bold: true)
        let columns: [(String, Double)] = [("label", 0), ("precision", 150), ("recall", 230), ("F1", 300), ("support", 370)]
        var row = y + 40
        for (name, dx) in columns { svg.text(x + dx, row, name, size: 12, bold: true, fill: "#555") }
        let rows = m.perClass.map { ($0.label, $0.precision, $0.recall, $0.f1, "\($0.support)") }
            + [("macro", m.macroPrecision, m.macroRecall, m.macroF1, "\(m.examples)")]
        for (label, p, r, f1, support) in rows {
            row += 22
            svg.line(x, row - 16, x + 430, row - 16, stroke: "#eeeeee")
            let shown = shortened(label, toFit: 20)
            svg.text(x, row, shown, size: 12, bold: label == "macro" && rows.last?.0 == label)
            for (value, dx) in [(p, 150.0), (r, 230), (f1, 300)] { svg.text(x + dx, row, formatMetric(value), size: 12) }
            svg.text(x + 370, row, support, size: 12)
        }
        return row
    }

    /// The run's settings, sorted by name (the first 14).
    static func configurationList(_ report: TrainingReport, into svg: inout SVGDocument, x: Double, y: Double) {
        guard !report.configuration.isEmpty else { return }
        svg.text(x, y + 14, "Configuration", size: 15, bold: true)
        var row = y + 36
        for (key, value) in report.configuration.sorted(by: { $0.key < $1.key }).prefix(14) {
            svg.text(x, row, key, size: 12, fill: "#555")
            let text = value.description
            svg.text(x + 150, row, text.count > 44 ? "…" + String(text.suffix(43)) : text, size: 12)
            row += 18
        }
    }
}
