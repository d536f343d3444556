@testable import BertTraining
import BertCore
import Foundation
import XCTest

/// A run stopped inside an epoch and resumed ends bit for bit where the uninterrupted run ends:
/// weights, AdamW moments, the report's losses. Dropout and gradient accumulation are on, so the
/// dropout pass counter and the accumulation boundary are part of what must come back.
final class ResumeTests: XCTestCase {
    private var scratch: URL!
    private let tinyBert = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BertCoreTests/Fixtures/tiny-bert")

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func data() throws -> TrainingData {
        let words = ["good", "bad", "fine", "poor", "great", "awful"]
        var lines = ["text\tlabel"]
        for i in 0..<120 { lines.append("the \(["film", "meal", "trip"][i % 3]) was \(words[(i * 5) % 6]) \(i)\t\((i * 5) % 6 % 2)") }
        let url = scratch.appendingPathComponent("train.tsv")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return try TrainingData.load(train: url, validationFraction: 0.2, seed: 1)
    }

    private var options: FineTuneOptions {
        var o = FineTuneOptions()
        o.epochs = 2
        o.batchSize = 8
        o.gradientAccumulation = 2
        o.learningRate = 1e-3
        o.seed = 5
        return o
    }

    private func bytes(_ run: URL, _ file: String) throws -> Data {
        try Data(contentsOf: run.appendingPathComponent(FineTuneRun.lastCheckpointName).appendingPathComponent(file))
    }

    func testStopInsideAnEpochThenResumeMatchesAnUninterruptedRun() throws {
        let data = try data()
        let straight = scratch.appendingPathComponent("straight")
        let reference = try FineTuneRun(modelDirectory: tinyBert, data: data, options: options, output: straight).run()

        let stopped = scratch.appendingPathComponent("stopped")
        var updates = 0
        let first = FineTuneRun(modelDirectory: tinyBert, data: data, options: options, output: stopped,
                                progress: { if $0.evaluation == nil { updates = $0.step } }, stopRequested: { updates == 3 })
        XCTAssertThrowsError(try first.run()) { error in
            let interrupted = error as? FineTuneRun.Interrupted
            XCTAssertEqual(interrupted?.step, 3, "\(error)")
            XCTAssertEqual(interrupted?.epoch, 1, "\(error)")
        }
        let state = try JSONDecoder().decode(TrainerState.self, from: try bytes(stopped, ResumeState.trainerStateName))
        XCTAssertEqual(state.epoch, 0)
        XCTAssertEqual(state.stepInEpoch, 6, "3 updates of 2 accumulated batches")
        XCTAssertEqual(state.globalStep, 3)

        let resumed = try FineTuneRun(modelDirectory: tinyBert, data: data, options: options, output: stopped).run(resume: true)
        XCTAssertEqual(try bytes(stopped, "model.safetensors"), try bytes(straight, "model.safetensors"), "weights differ after resuming")
        XCTAssertEqual(try bytes(stopped, ResumeState.optimizerName), try bytes(straight, ResumeState.optimizerName), "AdamW moments differ")
        XCTAssertEqual(resumed.epochs.map(\.trainLoss), reference.epochs.map(\.trainLoss))
        XCTAssertEqual(resumed.steps.map(\.loss), reference.steps.map(\.loss))
        XCTAssertEqual(resumed.steps.map(\.step), Array(1...reference.steps.count))
    }

    /// With checkpointEverySteps, a resume point is left inside the epoch: a crash loses at most N steps.
    func testPeriodicResumePoints() throws {
        var o = options
        o.checkpointEverySteps = 2
        o.epochs = 1
        let out = scratch.appendingPathComponent("periodic")
        var seen: [Int: Int] = [:]  // update → the resume point's global_step at that moment
        try FineTuneRun(modelDirectory: tinyBert, data: try data(), options: o, output: out, progress: { p in
            guard p.evaluation == nil,
                  let data = try? self.bytes(out, ResumeState.trainerStateName),
                  let state = try? JSONDecoder().decode(TrainerState.self, from: data) else { return }
            seen[p.step] = state.globalStep
        }).run()
        XCTAssertEqual(seen[3], 2, "\(seen)")
        XCTAssertEqual(seen[5], 4, "\(seen)")
    }
}
