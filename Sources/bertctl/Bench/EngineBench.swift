import BertProtocol
import BertCore
import BertPipeline
import COpenBLAS
import Foundation

/// The engine benchmark of `bertctl bench`, on the workloads of ../shared/tools/peers/ref_peers.py
/// so that the figures compare with PyTorch and ONNX Runtime measured on the same machine.
struct EngineBench {
    let textModel: TextModel
    let threads: Int
    /// MemoryBandwidth.readGBps of this run: single's floor.
    var memoryGBps: Double?

    private var model: TransformerModel { textModel.model }

    /// FLOPs of the encoder as ref_peers.py counts them: per token and layer 2·(4H² + 2HI) for
    /// the dense layers plus 4·T·H for attention, T the sequence's length. The same count for
    /// every engine: bertd's classify skips most of the last layer's rows (only [CLS] is read),
    /// so its GFLOP/s from this count are an effective rate.
    func flops(sequenceLengths: [Int]) -> Double {
        let c = model.config
        let (l, h, i) = (Double(c.numLayers), Double(c.hiddenSize), Double(c.intermediateSize))
        return sequenceLengths.reduce(0) { sum, t in
            let t = Double(t)
            return sum + l * (2 * (4 * h * h + 2 * h * i) + 4 * t * h) * t
        }
    }

    /// The machine's practical sgemm limit: 2048³ through the same OpenBLAS on `threads` threads
    /// (OpenBLAS's own threading, as numpy uses it), best of 5. The engine keeps OpenBLAS at one
    /// thread per call and splits work itself, so the setting is restored afterwards.
    static func sgemmGFLOPS(threads: Int) -> Double {
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        let n = 2048
        // Any values in [0, 1) do (sgemm's speed does not depend on them); a system random
        // number per element would take longer than the measurement.
        let a = (0..<(n * n)).map { Float(($0 &* 7919) % 1000) / 1000 }
        let b = (0..<(n * n)).map { Float(($0 &* 104_729) % 1000) / 1000 }
        var c = [Float](repeating: 0, count: n * n)
        let times = Stopwatch.measure(warmup: 1, repetitions: 5) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
        }
        return 2 * pow(Double(n), 3) / times.min()! / 1e9
    }

    private func forward(_ batch: TokenBatch, _ ws: Workspace) throws {
        if model.canClassify { _ = try model.classify(batch, workspace: ws) } else { try model.encode(batch, workspace: ws) }
    }

    /// The peers' sequence length, or less for a model that takes fewer positions.
    private var benchLength: Int { min(128, textModel.maxSequenceLength) }

    /// 32 sequences of 128 random tokens (fewer if the model's limit is lower), forward only.
    func fixed(sgemm: Double) throws -> [(String, JSON)] {
        var generator = SystemRandomNumberGenerator()
        let vocabulary = model.config.vocabSize
        let tokenRange = Int32(min(1000, vocabulary / 2))..<Int32(min(20000, vocabulary))
        let sequences = (0..<32).map { _ in (0..<benchLength).map { _ in Int32.random(in: tokenRange, using: &generator) } }
        let batch = TokenBatch(sequences: sequences)
        let ws = model.makeWorkspace()
        let times = try Stopwatch.measure(warmup: 2, repetitions: 5) { try forward(batch, ws) }
        let gflops = flops(sequenceLengths: Array(repeating: benchLength, count: 32)) / times.median / 1e9
        return [("seq_per_s", .number(32 / times.median)), ("gflops", .number(gflops)), ("efficiency", .number(gflops / sgemm)),
                ("ms_per_batch", .number(times.median * 1e3))]
    }

    /// The first 1024 texts of a TSV, tokenized beforehand (truncated at 128), batches of
    /// `batchSize` (32 as the peers run it; 1 for the unbatched baseline) in file order,
    /// padding-free. Forward time only, like the peers.
    func mixed(texts: [String], batchSize: Int = 32) throws -> [(String, JSON)] {
        let inputs = try texts.prefix(1024).map { try textModel.prepare($0, truncate: true, maxLength: benchLength) }
        let batches = stride(from: 0, to: inputs.count, by: batchSize).map {
            textModel.batch(Array(inputs[$0..<min($0 + batchSize, inputs.count)]))
        }
        let tokens = batches.reduce(0) { $0 + $1.tokenCount }
        let ws = model.makeWorkspace()
        let times = try Stopwatch.measure(warmup: 1, repetitions: 3) { for b in batches { try forward(b, ws) } }
        let lengths = batches.flatMap { b in (0..<b.count).map { b.length(of: $0) } }
        return [("texts", .int(inputs.count)), ("tokens", .int(tokens)),
                ("seq_per_s", .number(Double(inputs.count) / times.median)),
                ("tokens_per_s", .number(Double(tokens) / times.median)),
                ("gflops", .number(flops(sequenceLengths: lengths) / times.median / 1e9))]
    }

    /// The sentences of `single`: 12 and 25 tokens with MiniLM's tokenizer.
    static let singleSentence = "The film was a delight from start to finish."
    static let longerSentence = "Although the plot drags in the middle, the film was a delight from start to finish and the cast is superb"

    /// One sentence (12 tokens by default), batch 1: latency including tokenization. With the
    /// run's memory bandwidth, also the floor a batch of one cannot beat here: every dense weight
    /// (in the precision the model runs at) read once from memory, which is most of a short
    /// sentence's time once the weights outgrow the L3 cache.
    func single(_ text: String = EngineBench.singleSentence) throws -> [(String, JSON)] {
        let ws = model.makeWorkspace()
        var tokens = 0
        let times = try Stopwatch.measure(warmup: 20, repetitions: 300) {
            let input = try textModel.prepare(text)
            tokens = input.encoding.ids.count
            try forward(textModel.batch([input]), ws)
        }
        var figures: [(String, JSON)] = [("tokens", .int(tokens)), ("p50_ms", .number(times.quantile(0.5) * 1e3)),
                                         ("p90_ms", .number(times.quantile(0.9) * 1e3)), ("p99_ms", .number(times.quantile(0.99) * 1e3))]
        let weightBytes = Double(model.encoderDenseWeightBytes)
        figures.append(("weights_mb", .number(weightBytes / 1e6)))
        if let memoryGBps { figures.append(("weights_read_ms", .number(weightBytes / (memoryGBps * 1e9) * 1e3))) }
        return figures
    }
}
