@testable import BertTraining
import BertCore
import Foundation
import XCTest

enum Fixtures {
    static func url(_ relative: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(relative)
    }

    static func safetensors(_ relative: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: url(relative).path)
    }

    /// `losses_before_each_step_and_final` of a reference JSON.
    static func losses(_ relative: String) throws -> [Float] {
        let data = try Data(contentsOf: url(relative))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let adamw = json["adamw"] as! [String: Any]
        return (adamw["losses_before_each_step_and_final"] as! [Double]).map { Float($0) }
    }
}

/// The package root, found from this file's path (Tests/BertTrainingTests/TestSupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// all-MiniLM-L6-v2 (Deploy/fetch-model.sh). Tests that need it skip without it, except in CI
/// (CI=true), where its absence is a failure.
func miniLMDirectory() throws -> URL {
    let dir = packageRoot.appendingPathComponent("models/all-MiniLM-L6-v2")
    if FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) { return dir }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("models/all-MiniLM-L6-v2 is missing in CI: Deploy/setup.sh should have fetched it")
    }
    throw XCTSkip("models/all-MiniLM-L6-v2 is absent: run Deploy/fetch-model.sh to enable this test")
}

/// The rows of a padded [B, L] batch whose attention mask is 1, as a padding-free batch.
func unpaddedBatch(ids: [Int], mask: [Int], typeIds: [Int]?, rows: Int) -> TokenBatch {
    let width = ids.count / rows
    var batch = TokenBatch()
    for r in 0..<rows {
        let keep = ((r * width)..<((r + 1) * width)).filter { mask[$0] == 1 }
        batch.append(ids: keep.map { Int32(ids[$0]) }, typeIds: typeIds.map { t in keep.map { Int32(t[$0]) } })
    }
    return batch
}

/// The largest |a − b| (NaN if any difference is NaN, so that a NaN never passes).
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if d.isNaN { return .nan }
        worst = max(worst, d)
    }
    return worst
}

func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }

/// Compares one tensor, prints its worst difference, and fails the test when it exceeds the
/// tolerance. relative: the difference is divided by the reference tensor's largest |value|.
@discardableResult
func expectClose(_ label: String, _ actual: [Float], _ expected: [Float], tolerance: Float, relative: Bool = false,
                 file: StaticString = #filePath, line: UInt = #line) -> Float {
    guard actual.count == expected.count else {
        XCTFail("\(label): \(actual.count) values, reference has \(expected.count)", file: file, line: line)
        return .infinity
    }
    let diff = maxAbsDifference(actual, expected)
    let scale = relative ? max(maxAbs(expected), 1e-30) : 1
    let measured = diff / scale
    let kind = relative ? "max |Δ|/max|ref|" : "max |Δ|"
    print("  \(label): \(kind) = \(measured)\(relative ? " (max|ref| \(scale))" : "")")
    XCTAssertTrue(measured <= tolerance, "\(label): \(kind) = \(measured) exceeds \(tolerance)", file: file, line: line)
    return measured
}

/// A file of ../shared/data (real datasets, never copied into the repo). Tests that need it skip
/// without it, except in CI (CI=true), where its absence is a failure.
func sharedData(_ relative: String) throws -> URL {
    let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").appendingPathComponent(relative)
    if FileManager.default.fileExists(atPath: url.path) { return url }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("../shared/data/\(relative) is missing in CI")
    }
    throw XCTSkip("../shared/data/\(relative) is absent: this test needs the shared datasets beside the repo")
}

/// MiniLM fine-tuned by bertd on 4 000 SST-2 sentences (every 16th of train.tsv; one epoch, lr
/// 1e-4; validated on the first 200 dev sentences): a real classifier for the tests that need one
/// (explanations, the int8 gate). Trained once per test process (~40 s) and removed at its exit.
enum SST2FineTunedMiniLM {
    private static var trained: (url: URL, report: TrainingReport)?
    private static let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sst2-minilm-\(getpid())")

    static func directoryAndReport() throws -> (url: URL, report: TrainingReport) {
        if let trained { return trained }
        let base = try miniLMDirectory()
        let train = try sharedData("sst2/train.tsv"), dev = try sharedData("sst2/dev.tsv")
        let full = try TrainingData.load(train: train, validation: dev)
        // A fixed, label-balanced-by-chance subset: every 16th sentence.
        let data = TrainingData(train: full.train.subset(Array(stride(from: 0, to: 64_000, by: 16))),
                                validation: full.validation.subset(Array(0..<200)), validationWasSplit: false)
        var options = FineTuneOptions()
        options.epochs = 1
        options.learningRate = 1e-4
        let report = try FineTuneRun(modelDirectory: base, data: data, options: options, output: directory).run()
        atexit { try? FileManager.default.removeItem(at: SST2FineTunedMiniLM.directory) }
        trained = (directory, report)
        return (directory, report)
    }
}
