import Foundation

/// The learning rate at each optimizer step, as transformers' schedulers compute it
/// (get_constant_schedule_with_warmup, get_linear_schedule_with_warmup,
/// get_cosine_schedule_with_warmup): `step` counts the updates already taken, so the first
/// update uses step 0 (and, with warm-up, a learning rate of 0, as HF does).
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Shape: Sendable, Equatable {
        /// The peak rate after warm-up, forever.
        case constant
        /// Linear decay from the peak at the end of warm-up to 0 at totalSteps.
        case linear
        /// Half a cosine from the peak to 0 at totalSteps.
        case cosine
    }

    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var shape: Shape

    public init(peak: Float, shape: Shape, warmupSteps: Int = 0, totalSteps: Int = 0) {
        self.peak = peak
        self.shape = shape
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    public func learningRate(step: Int) -> Float { peak * multiplier(step: step) }

    public func multiplier(step: Int) -> Float {
        if step < warmupSteps { return Float(step) / Float(max(1, warmupSteps)) }
        let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        switch shape {
        case .constant: return 1
        case .linear: return Float(max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps))))
        case .cosine: return Float(max(0, 0.5 * (1 + Foundation.cos(Double.pi * progress))))
        }
    }
}
