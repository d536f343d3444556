@testable import BertTraining
import Foundation
import XCTest

/// A sweep's definition: the grid's order and names, random search's draws, and the errors a
/// person gets for a bad axis or range. No training.
final class SweepDefinitionTests: XCTestCase {
    private func definition(grid: [String] = [], ranges: [String] = [], random: Int? = nil, seeds: Int = 1, halving: Bool = false,
                            base: [String: TrainingSettings.Value] = [:]) throws -> SweepDefinition {
        try SweepDefinition(model: "/models/m", train: "/data/train.tsv", base: TrainingSettings(base),
                            grid: try grid.map(SweepDefinition.GridAxis.init(parsing:)),
                            ranges: try ranges.map(SweepDefinition.RangeAxis.init(parsing:)),
                            randomPoints: random, seeds: seeds, halving: halving)
    }

    func testGridIsTheProductInOrderWithStableNames() throws {
        let d = try definition(grid: ["lr=1e-5,3e-5", "batch_size=16,32", "method=full,lora"], seeds: 2, base: ["seed": .integer(42)])
        let names = d.configurations().map(\.name)
        XCTAssertEqual(names, [
            "001-lr=1e-05,batch-size=16,method=full", "002-lr=1e-05,batch-size=16,method=lora",
            "003-lr=1e-05,batch-size=32,method=full", "004-lr=1e-05,batch-size=32,method=lora",
            "005-lr=3e-05,batch-size=16,method=full", "006-lr=3e-05,batch-size=16,method=lora",
            "007-lr=3e-05,batch-size=32,method=full", "008-lr=3e-05,batch-size=32,method=lora",
        ], "the first axis varies slowest; a settings key is shown by its option name")
        let points = d.points()
        XCTAssertEqual(points.count, 16)
        XCTAssertEqual(points.prefix(2).map(\.name), ["001-lr=1e-05,batch-size=16,method=full-seed42", "001-lr=1e-05,batch-size=16,method=full-seed43"])
        XCTAssertEqual(points, d.points(), "enumeration is deterministic")

        let settings = points[15].settings(base: TrainingSettings(["epochs": .integer(2), "learning_rate": .number(1)]))
        XCTAssertEqual(settings.values["learning_rate"], .number(3e-5), "an axis overrides the base")
        XCTAssertEqual(settings.values["batch_size"], .integer(32))
        XCTAssertEqual(settings.values["method"], .string("lora"))
        XCTAssertEqual(settings.values["seed"], .integer(43))
        XCTAssertEqual(settings.values["epochs"], .integer(2), "the base applies to every point")
        let options = try settings.options(classCounts: [5, 5])
        XCTAssertEqual(options.learningRate, 3e-5)
        XCTAssertEqual(options.batchSize, 32)
        XCTAssertEqual(options.seed, 43)
        guard case .lora = options.method else { return XCTFail("method \(options.method)") }
    }

    /// Every axis sets a key TrainingSettings reads: a value of the wrong kind under that key is
    /// refused naming it (a typo in the table would be silently ignored instead).
    func testEveryAxisSetsASettingTheRunReads() throws {
        for axis in SweepAxis.all {
            XCTAssertEqual(try SweepAxis.named(axis.key), axis, "\(axis.key) is accepted too")
            var values: [String: TrainingSettings.Value] = [axis.key: .bool(true)]
            if axis.key == "freeze_layers" { values["method"] = .string("freeze-lower") }
            if axis.key.hasPrefix("lora_") { values["method"] = .string("lora") }
            if axis.key == "focal_gamma" { values["loss"] = .string("focal") }
            XCTAssertThrowsError(try TrainingSettings(values).options(classCounts: [1, 1]), axis.name) { error in
                XCTAssertTrue("\(error)".contains("\"\(axis.key)\""), "\(axis.name): \(error)")
            }
        }
    }

    func testRandomSearchIsSeededAndStaysInItsRanges() throws {
        let ranges = ["lr=1e-5:1e-4:log", "warmup-ratio=0:0.2", "batch-size=8:64"]
        let d = try definition(grid: ["method=full,lora"], ranges: ranges, random: 400, base: ["seed": .integer(7)])
        let rows = d.configurations()
        XCTAssertEqual(rows.count, 400)
        XCTAssertEqual(rows, try definition(grid: ["method=full,lora"], ranges: ranges, random: 400, base: ["seed": .integer(7)]).configurations(),
                       "the same seed draws the same points")
        XCTAssertNotEqual(rows, try definition(grid: ["method=full,lora"], ranges: ranges, random: 400, base: ["seed": .integer(8)]).configurations(),
                          "another seed draws other points")
        func values(_ axis: String) -> [TrainingSettings.Value] { rows.map { $0.settings.first { $0.axis == axis }!.value } }
        let lrs = values("lr").map { v -> Double in guard case .number(let d) = v else { XCTFail("\(v)"); return 0 }; return d }
        XCTAssertTrue(lrs.allSatisfy { (1e-5...1e-4).contains($0) }, "\(lrs.filter { !(1e-5...1e-4).contains($0) })")
        XCTAssertTrue(lrs.allSatisfy { Double(String(format: "%.3g", $0)) == $0 }, "3 significant digits, as named")
        // Log-uniform: half the draws fall below the geometric mean (uniform would put 24 % there).
        let below = Double(lrs.filter { $0 < (1e-5 * 1e-4).squareRoot() }.count) / Double(lrs.count)
        XCTAssertEqual(below, 0.5, accuracy: 0.08, "log-uniform draws")
        let warmups = values("warmup-ratio").map { v -> Double in guard case .number(let d) = v else { return -1 }; return d }
        XCTAssertTrue(warmups.allSatisfy { (0...0.2).contains($0) })
        XCTAssertEqual(warmups.reduce(0, +) / Double(warmups.count), 0.1, accuracy: 0.015, "uniform draws")
        let batches = values("batch-size").map { v -> Int in guard case .integer(let i) = v else { XCTFail("\(v) is not an integer"); return 0 }; return i }
        XCTAssertTrue(batches.allSatisfy { (8...64).contains($0) })
        XCTAssertTrue(batches.contains(8) && batches.contains(64), "integer ranges include both ends")
        XCTAssertEqual(Set(values("method").map(\.display)), ["full", "lora"], "grid lists are drawn from")
        XCTAssertEqual(rows.first?.name.prefix(4), "001-")
    }

    func testBadAxesAndRangesAreClearErrors() {
        func message(_ f: () throws -> Any) -> String {
            do { _ = try f(); return "no error" } catch { return "\(error)" }
        }
        let cases: [(String, () throws -> Any)] = [
            ("unknown sweep axis \"learning-rate\"; axes are lr, batch-size, epochs", { try SweepDefinition.GridAxis(parsing: "learning-rate=1e-5") }),
            ("--seeds K", { try SweepDefinition.GridAxis(parsing: "seed=1,2") }),
            ("an axis is NAME=VALUES", { try SweepDefinition.GridAxis(parsing: "lr") }),
            ("lr: an empty value", { try SweepDefinition.GridAxis(parsing: "lr=1e-5,,2e-5") }),
            ("batch-size: \"3.5\" is not an integer", { try SweepDefinition.GridAxis(parsing: "batch-size=16,3.5") }),
            ("method must be one of full, head-only, lora, freeze-lower, not \"sgd\"", { try SweepDefinition.GridAxis(parsing: "method=full,sgd") }),
            ("lr: the range's low end must be below its high end", { try SweepDefinition.RangeAxis(parsing: "lr=1e-4:1e-5") }),
            ("lr: a log range needs a low end above 0", { try SweepDefinition.RangeAxis(parsing: "lr=0:1e-4:log") }),
            ("the scale of a range is linear or log, not \"cubic\"", { try SweepDefinition.RangeAxis(parsing: "lr=1:2:cubic") }),
            ("lr: a range is LOW:HIGH or LOW:HIGH:log", { try SweepDefinition.RangeAxis(parsing: "lr=1e-5") }),
            ("method is a choice", { try SweepDefinition.RangeAxis(parsing: "method=0:1") }),
            ("batch-size takes integers", { try SweepDefinition.RangeAxis(parsing: "batch-size=8.5:64") }),
            ("a sweep needs at least one axis", { try self.definition() }),
            ("--range axes are for random search: add --random N", { try self.definition(ranges: ["lr=1e-5:1e-4"]) }),
            ("the axis lr is given twice", { try self.definition(grid: ["lr=1e-5"], ranges: ["learning_rate=1e-5:1e-4"], random: 3) }),
            ("--random must be at least 1", { try self.definition(grid: ["lr=1e-5"], random: 0) }),
            ("--seeds must be at least 1", { try self.definition(grid: ["lr=1e-5"], seeds: 0) }),
            ("with --halving the epochs are the budget", { try self.definition(grid: ["epochs=2,4"], halving: true) }),
            ("--halving needs --epochs of at least 2", { try self.definition(grid: ["lr=1e-5"], halving: true, base: ["epochs": .integer(1)]) }),
            ("baseline-linear is not swept", { try self.definition(grid: ["lr=1e-5"], base: ["method": .string("baseline-linear")]) }),
        ]
        for (expected, f) in cases {
            let got = message(f)
            XCTAssertTrue(got.contains(expected), "expected “\(expected)”, got “\(got)”")
        }
    }

    func testStoredDefinitionRoundTripsAndNamesWhatChanged() throws {
        let d = try definition(grid: ["lr=1e-5,3e-5", "dropout=0,0.1"], ranges: ["warmup-ratio=0:0.2"], random: 4, seeds: 2,
                               base: ["learning_rate": .number(5e-5), "epochs": .integer(3), "lora_alpha": .number(16)])
        let stored = try JSONDecoder().decode(SweepDefinition.self, from: try d.json())
        XCTAssertEqual(d.differences(from: stored), [], "16.0 comes back from JSON as 16: the same setting")
        XCTAssertEqual(stored.configurations().map(\.name), d.configurations().map(\.name))
        let other = try definition(grid: ["lr=1e-5", "dropout=0,0.1"], ranges: ["warmup-ratio=0:0.2"], random: 4, seeds: 2,
                                   base: ["learning_rate": .number(5e-5), "epochs": .integer(4), "lora_alpha": .number(16)])
        XCTAssertEqual(other.differences(from: d), ["grid", "epochs"])
    }
}
