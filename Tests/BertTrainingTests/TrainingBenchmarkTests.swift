import BertCore
import BertTraining
import Foundation
import XCTest

/// Full fine-tuning throughput of MiniLM-L6 on the workload PyTorch was measured on (batch 32 ×
/// 64 tokens, AdamW). Opt-in, since it takes a minute:
///   BERTD_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter TrainingBenchmarkTests
final class TrainingBenchmarkTests: XCTestCase {
    func testMiniLMFineTuningThroughput() throws {
        guard ProcessInfo.processInfo.environment["BERTD_BENCH"] == "1" else {
            throw XCTSkip("set BERTD_BENCH=1 to run the training benchmark")
        }
        var rng = SeededGenerator(seed: 3)
        let sequences = (0..<32).map { _ in [101] + (0..<62).map { _ in Int32.random(in: 1000..<20000, using: &rng) } + [102] }
        let batch = TokenBatch(sequences: sequences)
        let labels = (0..<32).map { $0 % 3 }
        for (label, dropout) in [("dropout 0.1", DropoutRates.huggingFaceDefault), ("no dropout", DropoutRates.none)] {
            let model = try ModelLoader.load(directory: try miniLMDirectory(),
                                             extraWeights: [Fixtures.url("minilm/classifier_head_init.safetensors")])
            let before = try Trainer(model: model).loss(batch, labels: labels).loss
            let result = try TrainingBenchmark.run(model: model, batch: batch, labels: labels, steps: 5,
                                                   options: TrainingOptions(dropout: dropout))
            let after = try Trainer(model: model).loss(batch, labels: labels).loss
            print(String(format: "MiniLM-L6 fine-tuning, 32 × 64 tokens, %@, %d threads: %.1f examples/s, %.1f GFLOP/s, %.0f ms/step (loss %.4f → %.4f)",
                         label, ComputeThreads.current, result.examplesPerSecond, result.gflops, result.secondsPerStep * 1e3, before, after))
            XCTAssertTrue(after.isFinite && after < before, "six AdamW steps on one batch must lower its loss")
        }
    }
}
