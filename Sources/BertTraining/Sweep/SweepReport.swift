import Foundation

/// sweep_report.json: one row per configuration (its seeds' runs inside), best first by the
/// mean over seeds of each run's best validation value of the selection metric; the runs'
/// validation curves; what the budget skipped; which run OUT/best holds. `SweepReportSVG`
/// draws it and `table()` prints it.
public struct SweepReport: Sendable, Codable, Equatable {
    public static let jsonName = "sweep_report.json"
    public static let svgName = "sweep_report.svg"

    public enum Status: String, Sendable, Codable {
        /// Every run trained to its end (or stopped early).
        case finished
        /// Successive halving stopped it after `halvedAfterEpochs` epochs.
        case halved
        /// Halving paused it and the sweep has not gone on yet (the budget ran out).
        case paused
        /// The time budget ran out before (some of) its runs started.
        case skipped
        case notRun = "not_run"
    }

    /// One seed's run: OUT/points/NAME.
    public struct Run: Sendable, Codable, Equatable {
        public var name: String
        public var seed: UInt64
        public var best: Double?
        public var bestEpoch: Int?
        public var stoppedEarly: Bool
        public var seconds: Double
        /// The validation curve: the metric and the loss after each epoch.
        public var epochs: [SweepPointRecord.EpochValue]

        enum CodingKeys: String, CodingKey {
            case name, seed, best, seconds, epochs
            case bestEpoch = "best_epoch", stoppedEarly = "stopped_early"
        }
    }

    public struct Row: Sendable, Codable, Equatable {
        /// 1 for the best; nil while no run has a value.
        public var rank: Int?
        /// "003-lr=3e-05,batch-size=16".
        public var name: String
        /// Axis → value as the command line spells it.
        public var values: [String: String]
        /// Over the runs' best values; sd is the sample standard deviation (two runs or more).
        public var mean: Double?
        public var sd: Double?
        public var status: Status
        public var halvedAfterEpochs: Int?
        public var seconds: Double
        public var runs: [Run]

        enum CodingKeys: String, CodingKey {
            case rank, name, values, mean, sd, status, seconds, runs
            case halvedAfterEpochs = "halved_after_epochs"
        }
    }

    public struct Best: Sendable, Codable, Equatable {
        public var configuration: String
        public var run: String
        public var value: Double
    }

    public var metric: Metric
    public var higherIsBetter: Bool
    /// "grid of 6 configurations × 2 seeds, successive halving".
    public var search: String
    /// The axes, in the order of the definition (the columns).
    public var axes: [String]
    public var rows: [Row]
    /// Runs the time budget kept from starting in the last session.
    public var skipped: [String]
    public var best: Best?
    /// The last session's wall-clock seconds.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case metric, search, axes, rows, skipped, best, seconds
        case higherIsBetter = "higher_is_better"
    }

    init(definition: SweepDefinition, points: [SweepPoint], records: [String: SweepPointRecord], skipped: [String],
         halvedOut: [Int: Int], seconds: Double) {
        metric = definition.selectionMetric
        higherIsBetter = metric.higherIsBetter
        let count = Set(points.map(\.configuration.index)).count
        search = (definition.randomPoints == nil ? "grid of \(count) configurations" : "random search, \(count) configurations")
            + (definition.seeds > 1 ? " × \(definition.seeds) seeds" : "") + (definition.halving ? ", successive halving" : "")
        axes = definition.grid.map(\.name) + definition.ranges.map(\.name)
        self.skipped = skipped
        self.seconds = seconds

        var rows: [Row] = []
        for group in Dictionary(grouping: points, by: \.configuration.index).sorted(by: { $0.key < $1.key }).map(\.value) {
            let configuration = group[0].configuration
            let runs = group.map { p -> Run in
                let r = records[p.name]
                return Run(name: p.name, seed: p.seed, best: r?.best(), bestEpoch: r?.bestEpoch, stoppedEarly: r?.stoppedEarly ?? false,
                           seconds: r?.seconds ?? 0, epochs: r?.epochs ?? [])
            }
            let values = runs.compactMap(\.best)
            let mean = values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
            let sd = mean.flatMap { m in values.count < 2 ? nil : (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot() }
            let states = group.map { records[$0.name]?.state }
            let status: Status
            if group.contains(where: { skipped.contains($0.name) }) { status = .skipped }
            else if halvedOut[configuration.index] != nil { status = .halved }
            else if states.allSatisfy({ $0 == .finished }) { status = .finished }
            else if states.contains(.paused) { status = .paused }
            else { status = .notRun }
            rows.append(Row(rank: nil, name: configuration.name,
                            values: Dictionary(uniqueKeysWithValues: configuration.settings.map { ($0.axis, $0.value.display) }),
                            mean: mean, sd: sd, status: status, halvedAfterEpochs: halvedOut[configuration.index],
                            seconds: runs.map(\.seconds).reduce(0, +), runs: runs))
        }
        // Best first; rows without a value last, each part in enumeration order (the sort is stable).
        let better = higherIsBetter
        self.rows = rows.enumerated().sorted { a, b in
            switch (a.element.mean, b.element.mean) {
            case let (x?, y?) where x != y: return better ? x > y : x < y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return a.offset < b.offset
            }
        }.map(\.element)
        for i in self.rows.indices where self.rows[i].mean != nil { self.rows[i].rank = i + 1 }

        // OUT/best: the best row's best run that kept a checkpoint.
        if let row = self.rows.first, row.mean != nil,
           let run = row.runs.filter({ $0.best != nil && $0.bestEpoch != nil })
            .min(by: { better ? $0.best! > $1.best! : $0.best! < $1.best! }) {
            best = Best(configuration: row.name, run: run.name, value: run.best!)
        }
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self) + Data([0x0A])
    }

    public static func decode(_ data: Data) throws -> SweepReport { try JSONDecoder().decode(SweepReport.self, from: data) }
}
