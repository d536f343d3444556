import BertBaselines
import BertTraining
import Foundation
import XCTest

/// One training on a real dataset, for the record: skipped unless BERTD_BASELINE_DATA names a
/// folder with train.tsv and dev.tsv (text, label), e.g.
///
///     BERTD_BASELINE_DATA=../shared/data/sst2 swift test -c release -Xswiftc -enable-testing \
///         --skip-build --filter RealDataTimingTests
///
/// It prints the training time and the dev metrics (and with BERTD_BASELINE_TRACE set, the
/// objective at every L-BFGS iteration; BERTD_BASELINE_TOL sets `tol`, BERTD_BASELINE_SAVE a
/// directory to save the model in); it asserts only that training converged and
/// beats the majority class.
final class RealDataTimingTests: XCTestCase {
    func testTrainOnRealData() throws {
        guard let folder = ProcessInfo.processInfo.environment["BERTD_BASELINE_DATA"] else {
            throw XCTSkip("set BERTD_BASELINE_DATA to a folder with train.tsv and dev.tsv to time a training")
        }
        let dir = URL(fileURLWithPath: folder)
        let data = try TrainingData.load(train: dir.appendingPathComponent("train.tsv"), validation: dir.appendingPathComponent("dev.tsv"))
        let started = Date()
        let environment = ProcessInfo.processInfo.environment
        let trace = environment["BERTD_BASELINE_TRACE"] != nil
        var options = LinearBaselineOptions()
        if let tol = environment["BERTD_BASELINE_TOL"].flatMap(Double.init) { options.tolerance = tol }
        let model = try LinearBaseline.train(data, options: options) { p in
            if trace, p.phase == .fitting { print(p.iteration, String(format: "%.12f", p.objective ?? .nan), p.gradientNorm ?? .nan) }
        }
        let seconds = Date().timeIntervalSince(started)
        let report = try XCTUnwrap(model.report)
        let dev = try XCTUnwrap(report.validation)
        let (word, char) = model.featureCounts
        print(String(format: "%@: %d train texts, %d word + %d char features, trained in %.2f s (features %.2f s, L-BFGS %.2f s, %d iterations, %@, objective %.6f); dev accuracy %.4f, macro-F1 %.4f, ROC-AUC %.4f",
                     folder, report.trainExamples, word, char, seconds, report.seconds.features, report.seconds.fit, report.iterations,
                     report.solver[0].stop.rawValue, report.solver[0].objective, dev.accuracy, dev.macroF1, dev.rocAUC ?? .nan))
        if let out = environment["BERTD_BASELINE_SAVE"] { try model.save(to: URL(fileURLWithPath: out)) }
        XCTAssertTrue(report.converged)
        let majority = Double(data.validation.classCounts.max()!) / Double(data.validation.count)
        XCTAssertGreaterThan(dev.accuracy, majority)
    }
}
