import BertCore
import Foundation

/// OUT/points/NAME/point.json: what one run of a sweep achieved, written atomically when it
/// finished (or, with halving, when it paused at a round's epochs). Its presence is what makes a
/// rerun skip the run; the validation values per epoch are what the report ranks and draws.
public struct SweepPointRecord: Sendable, Codable, Equatable {
    public static let fileName = "point.json"

    public enum State: String, Sendable, Codable {
        /// Trained to its epochs (or stopped early): never trained again.
        case finished
        /// Halving: stopped at a round's epochs with its resume point, to continue if it survives.
        case paused
    }

    /// The validation set after one epoch: the selection metric and the loss (nil: undefined,
    /// or not finite, as after a divergence).
    public struct EpochValue: Sendable, Codable, Equatable {
        public var epoch: Int
        public var metric: Double?
        public var loss: Double?
    }

    public var name: String
    public var seed: UInt64
    public var state: State
    public var metric: Metric
    public var epochs: [EpochValue]
    /// The epoch whose checkpoint the run kept (its directory holds that model).
    public var bestEpoch: Int?
    public var stoppedEarly: Bool
    /// Wall-clock seconds of training, summed over the sessions that finished a stretch of it.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case name, seed, state, metric, epochs, seconds
        case bestEpoch = "best_epoch", stoppedEarly = "stopped_early"
    }

    init(point: SweepPoint, state: State, report: TrainingReport, seconds: Double) {
        func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
        name = point.name
        seed = point.seed
        self.state = state
        metric = report.selectionMetric
        epochs = report.epochs.map { e in
            EpochValue(epoch: e.epoch, metric: finite(e.validation?.value(of: report.selectionMetric)), loss: finite(e.validation?.loss))
        }
        bestEpoch = report.bestEpoch
        stoppedEarly = report.stoppedEarly
        self.seconds = seconds
    }

    /// The best value of the selection metric over the first `upTo` epochs (all when nil) —
    /// the value early stopping kept, and what halving ranks a round by.
    public func best(upTo limit: Int? = nil) -> Double? {
        let values = epochs.filter { $0.epoch <= (limit ?? Int.max) }.compactMap(\.metric)
        return metric.higherIsBetter ? values.max() : values.min()
    }

    public var epochsTrained: Int { epochs.last?.epoch ?? 0 }

    static func read(from directory: URL) -> SweepPointRecord? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(fileName).path) else { return nil }
        return try? JSONDecoder().decode(SweepPointRecord.self, from: data)
    }

    func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicDirectory.writeFile(try encoder.encode(self) + Data([0x0A]), to: directory.appendingPathComponent(Self.fileName))
    }
}
