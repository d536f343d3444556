import BertCore
import Foundation

/// Training throughput: forward, backward and AdamW steps on one batch, timed.
public enum TrainingBenchmark {
    public struct Result: Sendable {
        public let examplesPerSecond: Double
        public let gflops: Double
        public let secondsPerStep: Double
    }

    /// Training FLOPs of one step: 3× the forward count of ref_peers.py (per token and layer
    /// 2·(4H² + 2HI) for the dense layers plus 4·L·H for attention, L the sequence's length),
    /// the usual estimate of forward + backward.
    public static func trainingFlops(config c: ModelConfig, sequenceLengths: [Int]) -> Double {
        let (l, h, i) = (Double(c.numLayers), Double(c.hiddenSize), Double(c.intermediateSize))
        return 3 * sequenceLengths.reduce(0) { sum, n in
            let n = Double(n)
            return sum + l * (2 * (4 * h * h + 2 * h * i) + 4 * n * h) * n
        }
    }

    /// Runs `steps` training steps (after one warm-up step) on `batch` and reports the median
    /// step. This trains `model`: its weights change.
    public static func run(model: TransformerModel, batch: TokenBatch, labels: [Int], steps: Int,
                           options: TrainingOptions = TrainingOptions(), learningRate: Float = 5e-5) throws -> Result {
        let trainer = try Trainer(model: model, options: options)
        let optimizer = AdamW(groups: trainer.parameterGroups)
        var times: [Double] = []
        for n in 0...max(steps, 1) {
            let start = monotonicSeconds()
            try trainer.forwardBackward(batch, labels: labels)
            optimizer.step(learningRate: learningRate, maxGradNorm: 1)
            if n > 0 { times.append(monotonicSeconds() - start) }
        }
        let median = times.median
        let lengths = (0..<batch.count).map { batch.length(of: $0) }
        return Result(examplesPerSecond: Double(batch.count) / median,
                      gflops: trainingFlops(config: model.config, sequenceLengths: lengths) / median / 1e9,
                      secondsPerStep: median)
    }
}
