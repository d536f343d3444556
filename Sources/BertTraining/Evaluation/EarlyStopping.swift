/// Early stopping on one metric with patience, and the bookkeeping of which evaluation was
/// best (that is the checkpoint to keep). Codable, so a resumed run continues its count.
public struct EarlyStopping: Sendable, Codable, Equatable {
    public let metric: Metric
    public let higherIsBetter: Bool
    /// Evaluations in a row without improvement after which training stops; nil never stops.
    public let patience: Int?
    /// How much better than the best a value must be to count as an improvement.
    public let minDelta: Double

    public private(set) var best: Double?
    /// The epoch (or evaluation number) of the best value.
    public private(set) var bestEpoch: Int?
    public private(set) var evaluationsWithoutImprovement = 0

    public enum Decision: Sendable, Equatable {
        /// A new best: keep this checkpoint.
        case improved
        /// Not better; keep going.
        case noImprovement
        /// Not better for `patience` evaluations in a row: stop now.
        case stop
    }

    public init(metric: Metric, higherIsBetter: Bool? = nil, patience: Int? = nil, minDelta: Double = 0) throws {
        if let patience, patience < 1 {
            throw TrainingDataError(.invalidOption, "early-stopping patience must be at least 1 (got \(patience))")
        }
        guard minDelta >= 0 else { throw TrainingDataError(.invalidOption, "min delta must not be negative (got \(minDelta))") }
        self.metric = metric
        self.higherIsBetter = higherIsBetter ?? metric.higherIsBetter
        self.patience = patience
        self.minDelta = minDelta
    }

    /// Records one evaluation. A metric that is undefined for it (ROC-AUC with a class
    /// missing) counts as no improvement: it cannot show the model got better.
    public mutating func update(_ metrics: ClassificationMetrics, epoch: Int) -> Decision {
        update(value: metrics.value(of: metric), epoch: epoch)
    }

    public mutating func update(value: Double?, epoch: Int) -> Decision {
        if let value, !value.isNaN, isImprovement(value) {
            best = value
            bestEpoch = epoch
            evaluationsWithoutImprovement = 0
            return .improved
        }
        evaluationsWithoutImprovement += 1
        if let patience, evaluationsWithoutImprovement >= patience { return .stop }
        return .noImprovement
    }

    private func isImprovement(_ value: Double) -> Bool {
        guard let best else { return true }
        return higherIsBetter ? value > best + minDelta : value < best - minDelta
    }

    enum CodingKeys: String, CodingKey {
        case metric, patience, best
        case higherIsBetter = "higher_is_better", minDelta = "min_delta", bestEpoch = "best_epoch"
        case evaluationsWithoutImprovement = "evaluations_without_improvement"
    }
}
