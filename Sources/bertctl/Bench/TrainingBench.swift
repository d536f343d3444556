import BertCore
import BertProtocol
import BertTraining
import Foundation

/// `bench --training`: full fine-tuning and LoRA steps on ref_peers.py's training shape (batch
/// 32 × 64 random tokens, AdamW, dropout 0.1), each on a fresh copy of the model with a new
/// 2-label head. Full's GFLOP/s counts the usual 3× forward; LoRA skips the weight gradients of
/// every frozen matrix, so its useful work is 2× forward (its adapters are a rounding error),
/// and its step time against full's is what skipping them saves.
struct TrainingBench {
    let directory: URL

    func run(sgemm: Double) throws -> [(String, JSON)] {
        var rng = SeededGenerator(seed: 3)
        // ref_peers.py's ids (1000..<20000), inside smaller vocabularies too.
        let vocabulary = try ModelConfig(contentsOf: directory.appendingPathComponent("config.json")).vocabSize
        let ids = Int32(min(1000, vocabulary / 2))..<Int32(min(20000, vocabulary))
        let sequences = (0..<32).map { _ in [101] + (0..<62).map { _ in Int32.random(in: ids, using: &rng) } + [102] }
        let batch = TokenBatch(sequences: sequences)
        let labels = (0..<32).map { $0 % 2 }
        func measure(_ options: TrainingOptions) throws -> TrainingBenchmark.Result {
            let model = try ModelLoader.load(directory: directory, newHead: .init(labels: ["a", "b"], seed: 1))
            return try TrainingBenchmark.run(model: model, batch: batch, labels: labels, steps: 5, options: options)
        }
        let full = try measure(TrainingOptions(dropout: .huggingFaceDefault))
        let lora = try measure(TrainingOptions(dropout: .huggingFaceDefault, lora: LoRAConfig()))
        let loraGFLOPS = full.gflops * full.secondsPerStep * 2 / 3 / lora.secondsPerStep
        func fields(_ r: TrainingBenchmark.Result, gflops: Double) -> JSON {
            .object([("examples_per_s", .number(r.examplesPerSecond)), ("ms_per_step", .number(r.secondsPerStep * 1e3)),
                     ("gflops", .number(gflops)), ("efficiency", .number(gflops / sgemm))])
        }
        return [("shape", .string("32 × 64 tokens, AdamW, dropout 0.1")), ("full", fields(full, gflops: full.gflops)),
                ("lora_r8_query_value", fields(lora, gflops: loraGFLOPS)),
                ("lora_to_full_step_ratio", .number(lora.secondsPerStep / full.secondsPerStep))]
    }
}
