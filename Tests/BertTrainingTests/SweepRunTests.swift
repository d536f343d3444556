@testable import BertTraining
import BertCore
import Foundation
import XCTest

/// Sweeps run in-process: the ranking on a task where the better learning rate is known, an
/// interruption resumed without retraining what finished, successive halving, the time budget.
final class SweepRunTests: XCTestCase {
    private var scratch: URL!
    private let tinyBert = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BertCoreTests/Fixtures/tiny-bert")

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// Sentences built from two word lists; the label says which list the adjective came from.
    private func writeData(_ name: String, count: Int, seed: Int) throws -> URL {
        let good = ["wonderful", "great", "lovely", "excellent", "delightful", "superb"]
        let bad = ["awful", "terrible", "dreadful", "horrible", "boring", "dismal"]
        let nouns = ["film", "meal", "concert", "book", "trip", "game", "show", "hotel"]
        var lines = ["text\tlabel"]
        for i in 0..<count {
            let positive = (i * 7 + seed) % 2 == 0
            lines.append("the \(nouns[(i * 3 + seed) % 8]) was \((positive ? good : bad)[(i * 5 + seed) % 6])\t\(positive ? "positive" : "negative")")
        }
        let url = scratch.appendingPathComponent(name)
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// A tiny-bert sweep (fast; every word is [UNK] there, so it ranks learning rates by loss only).
    private func tinyDefinition(grid: [String], seeds: Int = 1, halving: Bool = false, epochs: Int = 2) throws -> SweepDefinition {
        try SweepDefinition(model: tinyBert.path, train: try writeData("train.tsv", count: 120, seed: 1).path,
                            base: TrainingSettings(["epochs": .integer(epochs), "batch_size": .integer(8), "seed": .integer(5),
                                                    "validation_fraction": .number(0.2)]),
                            grid: try grid.map(SweepDefinition.GridAxis.init(parsing:)), seeds: seeds, halving: halving)
    }

    private func bytes(_ url: URL) throws -> Data { try Data(contentsOf: url) }

    private func modified(_ url: URL) throws -> Date {
        try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as! Date
    }

    /// MiniLM, head only: at lr 1e-7 nothing moves, at 1e-3 the head learns two word lists. The
    /// ranking puts both 1e-3 configurations first, OUT/best is the best run's model, and the
    /// report files hold every point.
    func testRanksTheLearningRateThatLearnsFirst() throws {
        let model = try miniLMDirectory()
        let definition = try SweepDefinition(
            model: model.path, train: try writeData("train.tsv", count: 160, seed: 1).path,
            validation: try writeData("validation.tsv", count: 60, seed: 4).path,
            base: TrainingSettings(["method": .string("head-only"), "epochs": .integer(2), "seed": .integer(3),
                                    "metric": .string("accuracy"), "max_length": .integer(16)]),
            grid: [try .init(parsing: "lr=1e-7,1e-3"), try .init(parsing: "batch-size=8,16")])
        let out = scratch.appendingPathComponent("sweep")
        let report = try SweepRun(definition: definition, output: out).run()
        print(report.table())

        XCTAssertEqual(report.rows.count, 4)
        XCTAssertEqual(report.rows.map { $0.values["lr"] }, ["0.001", "0.001", "1e-07", "1e-07"], report.table())
        XCTAssertEqual(report.rows.map(\.rank), [1, 2, 3, 4])
        XCTAssertGreaterThan(report.rows[1].mean ?? 0, 0.8, "lr 1e-3 learns the word lists: \(report.table())")
        XCTAssertLessThan(report.rows[2].mean ?? 1, 0.7, "lr 1e-7 learns nothing: \(report.table())")
        XCTAssertTrue(report.rows.allSatisfy { $0.status == .finished && $0.runs[0].epochs.count == 2 })

        // The files: the report as returned, an SVG with every run's curves, and best/.
        XCTAssertEqual(try SweepReport.decode(bytes(out.appendingPathComponent(SweepReport.jsonName))), report)
        let svg = String(decoding: try bytes(out.appendingPathComponent(SweepReport.svgName)), as: UTF8.self)
        XCTAssertGreaterThanOrEqual(svg.components(separatedBy: "<polyline").count - 1, 8, "4 runs × (accuracy, loss)")
        XCTAssertTrue(svg.contains(report.rows[0].name))
        let best = try XCTUnwrap(report.best)
        XCTAssertEqual(best.configuration, report.rows[0].name)
        let bestDir = out.appendingPathComponent(SweepRun.bestName)
        XCTAssertEqual(try bytes(bestDir.appendingPathComponent("model.safetensors")),
                       try bytes(out.appendingPathComponent("points/\(best.run)/model.safetensors")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: bestDir.appendingPathComponent(FineTuneRun.lastCheckpointName).path))
        XCTAssertEqual(try ModelLoader.load(directory: bestDir).labels, ["negative", "positive"])
        for row in report.rows {
            let dir = out.appendingPathComponent("points/\(row.runs[0].name)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(TrainingReport.jsonName).path))
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent(FineTuneRun.lastCheckpointName).path),
                           "a finished run keeps no resume point")
        }
    }

    /// Stopped inside its second run, the sweep reruns nothing finished: the first run's files are
    /// untouched, the second resumes from its resume point, and the result equals an
    /// uninterrupted sweep's value for value. A finished sweep rerun trains nothing; a changed
    /// definition is refused.
    func testInterruptedSweepResumesWithoutRetraining() throws {
        let definition = try tinyDefinition(grid: ["lr=1e-3,1e-4"], seeds: 2)
        let straight = try SweepRun(definition: definition, output: scratch.appendingPathComponent("straight")).run()

        let out = scratch.appendingPathComponent("stopped")
        var started: [String] = [], stop = false, steps = 0
        let stopping = SweepRun(definition: definition, output: out, events: { event in
            if case .started(let p, _, _, _) = event { started.append(p.name) }
            if case .progress(let p, let progress) = event, started.count == 2, progress.evaluation == nil {
                steps += 1
                stop = steps == 3 && p.name == started[1]
            }
        }, stopRequested: { stop })
        XCTAssertThrowsError(try stopping.run()) { error in
            XCTAssertEqual((error as? SweepRun.Interrupted)?.point, started.last, "\(error)")
        }
        let points = definition.points()
        XCTAssertEqual(started, points.prefix(2).map(\.name))
        let first = out.appendingPathComponent("points/\(points[0].name)")
        let second = out.appendingPathComponent("points/\(points[1].name)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.appendingPathComponent(SweepPointRecord.fileName).path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: second.appendingPathComponent(SweepPointRecord.fileName).path))
        let state = try JSONDecoder().decode(TrainerState.self, from: bytes(second.appendingPathComponent("last-checkpoint/trainer_state.json")))
        XCTAssertEqual(state.globalStep, 3, "the second run stopped after its third step")
        let firstTimes = try [SweepPointRecord.fileName, "model.safetensors", TrainingReport.jsonName].map { try modified(first.appendingPathComponent($0)) }

        var resumed: [(String, Bool)] = [], firstStep: Int?
        let report = try SweepRun(definition: definition, output: out, events: { event in
            if case .started(let p, _, let resuming, _) = event { resumed.append((p.name, resuming)) }
            if case .progress(let p, let progress) = event, p == points[1], firstStep == nil { firstStep = progress.step }
        }).run()
        XCTAssertEqual(firstStep, 4, "the interrupted run continues after its third step")
        XCTAssertEqual(resumed.map(\.0), points.dropFirst().map(\.name), "the finished run is not trained again")
        XCTAssertEqual(resumed.map(\.1), [true, false, false], "the interrupted run resumes from its resume point")
        XCTAssertEqual(try [SweepPointRecord.fileName, "model.safetensors", TrainingReport.jsonName].map { try modified(first.appendingPathComponent($0)) },
                       firstTimes, "the finished run's files are untouched")

        XCTAssertEqual(Set(report.rows.map(\.name)), Set(straight.rows.map(\.name)))
        XCTAssertEqual(report.rows.map(\.name), straight.rows.map(\.name))
        XCTAssertEqual(report.rows.map { $0.runs.map(\.epochs) }, straight.rows.map { $0.runs.map(\.epochs) },
                       "every validation value as in the uninterrupted sweep (resume is bit for bit)")
        XCTAssertEqual(report.best?.run, straight.best?.run)
        for row in report.rows {
            let values = row.runs.compactMap(\.best)
            let mean = values.reduce(0, +) / 2
            XCTAssertEqual(row.mean!, mean, accuracy: 1e-12)
            XCTAssertEqual(row.sd!, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)).squareRoot(), accuracy: 1e-12,
                           "the sample sd over the two seeds")
        }

        var again = 0
        let rerun = try SweepRun(definition: definition, output: out, events: { if case .started = $0 { again += 1 } }).run()
        XCTAssertEqual(again, 0, "a finished sweep trains nothing")
        XCTAssertEqual(rerun.rows, report.rows)

        let changed = try tinyDefinition(grid: ["lr=1e-3,3e-4"], seeds: 2)
        XCTAssertThrowsError(try SweepRun(definition: changed, output: out).run()) { error in
            XCTAssertTrue("\(error)".contains("defined differently (grid)"), "\(error)")
        }
    }

    /// Halving over 4 learning rates and 2 epochs: every configuration trains epoch 1, the 2 best
    /// by then (by the uninterrupted runs' epoch-1 loss) train epoch 2, and end exactly where
    /// uninterrupted 2-epoch runs end: a paused run keeps the full run's schedule.
    func testHalvingContinuesTheBetterHalfAsUninterruptedRuns() throws {
        let grid = ["lr=3e-2,1e-2,1e-3,1e-4"]
        let full = try SweepRun(definition: try tinyDefinition(grid: grid), output: scratch.appendingPathComponent("full")).run()
        var rounds: [Int] = []
        let halved = try SweepRun(definition: try tinyDefinition(grid: grid, halving: true), output: scratch.appendingPathComponent("halved"),
                                  events: { if case .round(let epochs, _) = $0 { rounds.append(epochs) } }).run()
        print(full.table(), halved.table())
        XCTAssertEqual(rounds, [1, 2])

        let fullRows = Dictionary(uniqueKeysWithValues: full.rows.map { ($0.name, $0) })
        let epochOne = full.rows.sorted { ($0.runs[0].epochs[0].loss ?? .infinity) < ($1.runs[0].epochs[0].loss ?? .infinity) }.map(\.name)
        let survivors = Set(epochOne.prefix(2)), dropped = Set(epochOne.suffix(2))
        XCTAssertEqual(Set(halved.rows.filter { $0.status == .finished }.map(\.name)), survivors, halved.table())
        XCTAssertEqual(Set(halved.rows.filter { $0.status == .halved }.map(\.name)), dropped, halved.table())
        for row in halved.rows {
            let reference = fullRows[row.name]!.runs[0].epochs
            if survivors.contains(row.name) {
                XCTAssertEqual(row.runs[0].epochs, reference, "\(row.name) continued as an uninterrupted run")
            } else {
                XCTAssertEqual(row.halvedAfterEpochs, 1)
                XCTAssertEqual(row.runs[0].epochs, Array(reference.prefix(1)), "\(row.name) stopped after epoch 1")
                let dir = scratch.appendingPathComponent("halved/points/\(row.runs[0].name)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent(FineTuneRun.lastCheckpointName).path))
                XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(TrainingReport.svgName).path))
            }
        }
        XCTAssertTrue(survivors.contains(halved.rows[0].name), "a survivor ranks first")

        // Stopped in the second round, a rerun ranks round 1 again from the point.json files and
        // trains only the survivors, from their resume points.
        let out = scratch.appendingPathComponent("halved-stopped")
        var stop = false
        XCTAssertThrowsError(try SweepRun(definition: try tinyDefinition(grid: grid, halving: true), output: out, events: { event in
            if case .progress(_, let p) = event, p.step > 12 { stop = true }  // 12 steps an epoch
        }, stopRequested: { stop }).run())
        var started: [String: Bool] = [:]
        let resumed = try SweepRun(definition: try tinyDefinition(grid: grid, halving: true), output: out, events: { event in
            if case .started(let p, _, let resuming, let epochs) = event { started[p.configuration.name] = resuming && epochs == 2 }
        }).run()
        XCTAssertEqual(started, Dictionary(uniqueKeysWithValues: survivors.map { ($0, true) }), "only the survivors resume")
        XCTAssertEqual(resumed.rows.map(\.name), halved.rows.map(\.name))
        XCTAssertEqual(resumed.rows.map { $0.runs[0].epochs }, halved.rows.map { $0.runs[0].epochs })
        XCTAssertEqual(resumed.rows.map(\.status), halved.rows.map(\.status))
    }

    /// No run starts once the budget is spent; the report names those skipped, and the next
    /// session trains them (and only them).
    func testBudgetSkipsRunsAndTheNextSessionTrainsThem() throws {
        let definition = try tinyDefinition(grid: ["lr=1e-3,1e-4,1e-5"], epochs: 1)
        let out = scratch.appendingPathComponent("budget")
        var now = 0.0
        let report = try SweepRun(definition: definition, output: out, maxSeconds: 60,
                                  events: { if case .finished = $0 { now += 100 } }, clock: { now }).run()
        let names = definition.points().map(\.name)
        XCTAssertEqual(report.skipped, Array(names.dropFirst()))
        XCTAssertEqual(report.rows.map(\.status), [.finished, .skipped, .skipped])
        XCTAssertTrue(report.table().contains("skipped (time budget"), report.table())

        var started: [String] = []
        let rest = try SweepRun(definition: definition, output: out, events: { if case .started(let p, _, _, _) = $0 { started.append(p.name) } }).run()
        XCTAssertEqual(started, Array(names.dropFirst()))
        XCTAssertEqual(rest.skipped, [])
        XCTAssertTrue(rest.rows.allSatisfy { $0.status == .finished })
    }
}
