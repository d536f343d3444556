import Foundation

/// One setting of the axes (a row of the sweep's report), numbered from 1 in the order the
/// definition enumerates them.
public struct SweepConfiguration: Sendable, Equatable {
    public struct Setting: Sendable, Equatable {
        /// The axis's option name (`lr`) and settings key (`learning_rate`).
        public var axis: String
        public var key: String
        public var value: TrainingSettings.Value
    }

    public let index: Int
    public let settings: [Setting]
    /// Digits of the zero-padded index (the same for every configuration of a sweep).
    let indexWidth: Int

    /// "lr=3e-05,batch-size=16".
    public var label: String { settings.map { "\($0.axis)=\($0.value.display)" }.joined(separator: ",") }

    /// "003-lr=3e-05,batch-size=16": sorts in enumeration order and names the values.
    public var name: String {
        let number = String(index)
        return String(repeating: "0", count: max(0, indexWidth - number.count)) + number + "-" + label
    }
}

/// One run of a sweep: a configuration with one seed, an ordinary FineTuneRun in
/// OUT/points/NAME.
public struct SweepPoint: Sendable, Equatable {
    public let configuration: SweepConfiguration
    public let seed: UInt64

    /// "003-lr=3e-05,batch-size=16-seed42".
    public var name: String { "\(configuration.name)-seed\(seed)" }

    /// The base settings with this point's axis values and seed.
    public func settings(base: TrainingSettings) -> TrainingSettings {
        var values = base.values
        for s in configuration.settings { values[s.key] = s.value }
        values["seed"] = .integer(Int(seed))
        return TrainingSettings(values)
    }
}

extension SweepDefinition {
    /// The configurations, deterministic: the grid's product with the first axis varying
    /// slowest, or `randomPoints` draws from the base seed (each point draws its axes in order:
    /// grid lists uniformly, then ranges).
    public func configurations() -> [SweepConfiguration] {
        let rows = randomPoints.map(randomRows) ?? gridRows()
        let width = max(3, String(rows.count).count)
        return rows.enumerated().map { SweepConfiguration(index: $0.offset + 1, settings: $0.element, indexWidth: width) }
    }

    /// Every configuration × seed, configuration by configuration.
    public func points() -> [SweepPoint] {
        configurations().flatMap { c in (0..<seeds).map { SweepPoint(configuration: c, seed: seed + UInt64($0)) } }
    }

    private func gridRows() -> [[SweepConfiguration.Setting]] {
        var rows: [[SweepConfiguration.Setting]] = [[]]
        for axis in grid {
            let key = (try? SweepAxis.named(axis.name).key) ?? axis.name
            rows = rows.flatMap { row in axis.values.map { row + [.init(axis: axis.name, key: key, value: $0)] } }
        }
        return rows
    }

    /// A stream of the base seed of its own, so random search never shifts a split or a batch order.
    static let samplingStream: UInt64 = 0x5EE9

    private func randomRows(_ count: Int) -> [[SweepConfiguration.Setting]] {
        var generator = SeededGenerator.derived(seed: seed, stream: Self.samplingStream)
        func uniform() -> Double { Double(generator.next() >> 11) * 0x1p-53 }  // [0, 1)
        return (0..<count).map { _ in
            var row: [SweepConfiguration.Setting] = []
            for axis in grid {
                let key = (try? SweepAxis.named(axis.name).key) ?? axis.name
                row.append(.init(axis: axis.name, key: key, value: axis.values[min(Int(uniform() * Double(axis.values.count)), axis.values.count - 1)]))
            }
            for range in ranges {
                guard let axis = try? SweepAxis.named(range.name) else { continue }
                row.append(.init(axis: axis.name, key: axis.key, value: range.sample(uniform(), integer: axis.kind == .integer)))
            }
            return row
        }
    }
}

extension SweepDefinition.RangeAxis {
    /// The value at `u` ∈ [0, 1): linear or in log space; integers cover [low, high] evenly;
    /// other numbers are rounded to 3 significant digits, so the name, the report and a rerun
    /// with `bertctl train` all hold the value trained.
    func sample(_ u: Double, integer: Bool) -> TrainingSettings.Value {
        if integer {
            let (lo, hi) = (Int(low), Int(high))
            if scale == .log {
                // Uniform in log over [lo, hi + 1), floored: each integer gets its log-width share.
                let v = Int(Foundation.exp(Foundation.log(Double(lo)) + u * (Foundation.log(Double(hi + 1)) - Foundation.log(Double(lo)))))
                return .integer(min(max(v, lo), hi))
            }
            return .integer(min(lo + Int(u * Double(hi - lo + 1)), hi))
        }
        let raw = scale == .log ? Foundation.exp(Foundation.log(low) + u * (Foundation.log(high) - Foundation.log(low)))
                                : low + u * (high - low)
        let rounded = Double(String(format: "%.3g", raw)) ?? raw
        return .number(min(max(rounded, low), high))
    }
}
