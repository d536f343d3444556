@testable import BertTraining
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Collects element names and text, and fails on any XML error.
private final class XMLCheck: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var text = ""
    var error: Error?
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) { elements[name, default: 0] += 1 }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { text += "\n" }
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }
}

func sampleReport() -> TrainingReport {
    let labels = ["negative", "neutral <&> \"mixed\"", "positive"]
    var report = TrainingReport(title: "MiniLM-L6 · full fine-tune on sst2", configuration: [
        "learning_rate": .number(5e-5), "batch_size": .number(32), "method": .string("full"), "bucketing": .bool(true),
    ], labels: labels, selectionMetric: .macroF1)
    let confusions = [[[40, 6, 4], [9, 20, 11], [5, 7, 48]], [[44, 4, 2], [6, 27, 7], [2, 5, 53]], [[45, 3, 2], [5, 29, 6], [2, 4, 54]]]
    for (e, confusion) in confusions.enumerated() {
        var probabilities: [[Double]] = [], gold: [Int] = []
        for i in 0..<3 { for j in 0..<3 { for _ in 0..<confusion[i][j] {
            probabilities.append((0..<3).map { $0 == j ? 0.8 : 0.1 }); gold.append(i)
        } } }
        let metrics = ClassificationMetrics(probabilities: probabilities, labels: gold, labelNames: labels)
        report.epochs.append(EpochRecord(epoch: e + 1, trainLoss: 0.9 / Double(e + 1), validation: metrics, seconds: 12.5,
                                         examplesPerSecond: 31.2, learningRate: 5e-5))
        for s in 0..<10 {
            report.steps.append(StepRecord(step: e * 10 + s + 1, epoch: Double(e) + Double(s + 1) / 10,
                                           loss: 1.1 / Double(e + 1) - 0.01 * Double(s % 4), learningRate: 5e-5))
        }
    }
    report.bestEpoch = 3
    report.finalMetrics = report.epochs[2].validation
    report.timings = Timings(total: 40.2, tokenization: 0.4, training: 37.5, evaluation: 2.3)
    return report
}

final class ReportTests: XCTestCase {
    func testSVGIsWellFormedAndShowsTheNumbers() throws {
        let report = sampleReport()
        let svg = ReportSVG.render(report)
        let check = XMLCheck()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = check
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(String(describing: check.error ?? parser.parserError))")
        XCTAssertEqual(check.elements["svg"], 1)
        XCTAssertGreaterThanOrEqual(check.elements["polyline"] ?? 0, 4, "train per step, train per epoch, validation, metric")
        XCTAssertEqual(check.elements["rect"].map { $0 >= 9 }, true, "a cell per confusion-matrix entry")

        // The kept epoch's confusion counts, its scores, and the label that needs escaping.
        for count in [45, 3, 2, 5, 29, 6, 54] { XCTAssertTrue(check.text.contains("\n\(count)\n"), "count \(count)") }
        if ProcessInfo.processInfo.environment["BERTD_REPORT_SVG"] != nil {  // to look at it: set the variable
            try svg.write(toFile: ProcessInfo.processInfo.environment["BERTD_REPORT_SVG"]!, atomically: true, encoding: .utf8)
        }
        let final = report.finalMetrics!
        XCTAssertTrue(check.text.contains(formatMetric(final.accuracy)))
        XCTAssertTrue(check.text.contains(formatMetric(final.macroF1)))
        XCTAssertTrue(check.text.contains(formatMetric(final.perClass[1].recall)))
        XCTAssertTrue(check.text.contains("neutral <&> \"mixed\""), "labels are escaped, not dropped")
        XCTAssertTrue(svg.contains("neutral &lt;&amp;&gt; &quot;mixed&quot;"))
        XCTAssertTrue(check.text.contains("kept: epoch 3"))
        XCTAssertTrue(check.text.contains("Validation macro_f1"))
        XCTAssertTrue(check.text.contains("0.00005") || check.text.contains("5e-05"), "configuration values are shown")
    }

    func testSVGWithoutValidationOrWithManyClassesStillRenders() throws {
        var empty = TrainingReport(title: "no validation", labels: ["a", "b"])
        empty.epochs = [EpochRecord(epoch: 1, trainLoss: 0.5, validation: nil, seconds: 1, examplesPerSecond: 10)]
        for report in [empty, manyClassReport()] {
            let parser = XMLParser(data: Data(ReportSVG.render(report).utf8))
            XCTAssertTrue(parser.parse(), "\(report.title): \(String(describing: parser.parserError))")
        }
        XCTAssertTrue(ReportSVG.render(empty).contains("No validation metrics"))
    }

    private func manyClassReport() -> TrainingReport {
        let labels = (0..<20).map { "class-with-a-rather-long-name-\($0)" }
        var report = TrainingReport(title: "twenty classes", labels: labels)
        let probabilities = (0..<200).map { i in (0..<20).map { $0 == (i * 7) % 20 ? 0.62 : 0.02 } }
        report.finalMetrics = ClassificationMetrics(probabilities: probabilities, labels: (0..<200).map { $0 % 20 }, labelNames: labels)
        return report
    }

    func testReportJSONRoundTripsWithSnakeCaseKeys() throws {
        var report = sampleReport()
        report.folds = [report.epochs[0].validation!, report.epochs[2].validation!]
        report.data = DataStatistics(trainExamples: 900, validationExamples: 150, trainClassCounts: [300, 300, 300],
                                     validationClassCounts: [50, 50, 50], skippedRows: 2, validationWasSplit: true)
        let data = try report.json()
        XCTAssertEqual(try TrainingReport.decode(data), report)
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        XCTAssertEqual(json["selection_metric"] as? String, "macro_f1")
        XCTAssertEqual(json["best_epoch"] as? Int, 3)
        let epoch = (json["epochs"] as! [[String: Any]])[0]
        XCTAssertEqual(epoch["train_loss"] as? Double, 0.9)
        XCTAssertNotNil((epoch["validation"] as? [String: Any])?["macro_f1"])
        XCTAssertNotNil((epoch["validation"] as? [String: Any])?["roc_auc"])
        XCTAssertEqual((json["data"] as? [String: Any])?["skipped_rows"] as? Int, 2)
        let summary = try XCTUnwrap(report.foldSummary(.accuracy))
        let a = report.folds!.map(\.accuracy)
        XCTAssertEqual(summary.mean, (a[0] + a[1]) / 2, accuracy: 1e-12)
        XCTAssertEqual(summary.sd, abs(a[0] - a[1]) / 2.0.squareRoot(), accuracy: 1e-12)
    }
}
