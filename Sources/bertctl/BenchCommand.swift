import BertProtocol
import ArgumentParser
import BertCore
import BertPipeline
import BertTraining
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine (and the tokenizer) on this machine; prints one JSON object.",
        discussion: """
        Workloads as ../shared/tools/peers/ref_peers.py runs them for PyTorch and ONNX Runtime:
          sgemm_gflops  2048³ sgemm through the same OpenBLAS: the machine's practical limit
          memory_read_gbps  reading 256 MB (beyond every cache) on the same threads
          fixed         32 × 128 random tokens, forward only; efficiency = gflops / sgemm_gflops
          mixed         the first 1024 texts of --texts, batches of 32 in file order, ≤128 tokens
          mixed_batch1  the same texts one at a time: what batching gains on them
          single        one 12-token sentence, batch 1, tokenization included: p50/p90/p99 latency;
                        weights_mb, the encoder's dense weights in the precision run, and
                        weights_read_ms, the time to read them once at memory_read_gbps: the
                        floor for a batch of one once they outgrow the L3 cache
          single_25     the same with a 25-token sentence
          tokenizer     (--tokenizer) every text of --texts: texts/s and tokens/s, 1 and N threads
          training      (--training) full fine-tuning and LoRA steps, 32 × 64 tokens: GFLOP/s,
                        efficiency against sgemm, and LoRA's step time over full's
        GFLOP/s count the whole encoder's FLOPs for every token, as the peers' script does; a model \
        with a head on [CLS] computes its last layer for the [CLS] rows alone (keys and values for \
        every token), so its GFLOP/s are an effective rate and its efficiency can pass 1.
        --precision int8 runs them in int8 (bertd's int8 inference, whatever the model directory's \
        quality gate says); both puts int8's figures under "int8" beside fp32's, from one run.
        The load average at the start is printed with the CPU: figures from a busy machine are not comparable.
        Run it on an otherwise idle machine, from a release build:
          swift build -c release && .build/release/bertctl bench --local models/all-MiniLM-L6-v2 --texts ../shared/data/sst2/dev.tsv
          .build/release/bertctl bench --local models/all-MiniLM-L6-v2 --texts ../shared/data/sst2/dev.tsv --precision both
        """)

    @OptionGroup var required: RequiredLocalModelOptions
    var model: LocalModelOptions { required.local }

    @Option(help: "Compute threads (default: the number of cores).")
    var threads: Int?

    @Option(help: "A text<TAB>label TSV with a header line, for the mixed and tokenizer workloads.")
    var texts: String?

    @Flag(help: "Also measure the tokenizer on every text of --texts.")
    var tokenizer = false

    @Flag(help: "Only the tokenizer benchmark.")
    var tokenizerOnly = false

    @Flag(help: "Also measure training steps: full fine-tuning and LoRA.")
    var training = false

    @Option(help: "The engine's precision: fp32, int8, or both (int8's figures under \"int8\").")
    var precision: BenchPrecision = .fp32

    @Option(help: """
        The kernels: best (this CPU's widest) or avx2 (the AVX2 + FMA kernels a CPU without AVX-512 runs, \
        for the small-M fp32 path and int8; with OPENBLAS_CORETYPE=Haswell OpenBLAS does the same).
        """)
    var kernels: BenchKernels = .best

    @Option(name: .customLong("workload"),
            help: "Only these engine workloads (repeat the option; default: all): fixed, mixed (with mixed_batch1), single (with single_25).")
    var workloads: [Workload] = []

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        case fixed, mixed, single
    }

    enum BenchPrecision: String, ExpressibleByArgument, CaseIterable {
        case fp32, int8, both
    }

    enum BenchKernels: String, ExpressibleByArgument, CaseIterable {
        case best, avx2
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if (tokenizer || tokenizerOnly) && texts == nil { throw ValidationError("--tokenizer needs --texts") }
        if workloads.contains(.mixed) && texts == nil { throw ValidationError("--workload mixed needs --texts") }
        if kernels == .avx2 && !(SmallMKernel.avx2.isAvailable && QuantizedKernel.avx2.isAvailable) {
            throw ValidationError("--kernels avx2: this CPU has no AVX2 + FMA")
        }
    }

    func run() throws {
        let n = threads ?? ComputeThreads.cores
        if kernels == .avx2 { (SmallMKernel.active, QuantizedKernel.active) = (.avx2, .avx2) }
        ComputeThreads.set(n)
        let textModel = try model.load()
        let corpus = try texts.map { try TSVTexts.read(path: $0) }
        // The CPU first: a figure means nothing without the machine it was measured on.
        var result: [(String, JSON)] = [("cpu", .object(CPUInfo().json)), ("load_average", .string(CPUInfo.loadAverage)), ("threads", .int(n)),
                                        ("kernels", .object([("small_m", .string(SmallMKernel.active.rawValue)),
                                                             ("int8", .string(QuantizedKernel.active.rawValue))]))]
        if !tokenizerOnly {
            let sgemm = EngineBench.sgemmGFLOPS(threads: n)
            result.append(("sgemm_gflops", .number(sgemm)))
            let bandwidth = MemoryBandwidth.readGBps(threads: n)
            result.append(("memory_read_gbps", .number(bandwidth)))
            let first = precision == .int8 ? textModel.converted(to: .int8) : textModel
            result.append(("precision", .string(first.precision.rawValue)))
            result += try workloads(EngineBench(textModel: first, threads: n, memoryGBps: bandwidth), sgemm: sgemm, corpus: corpus)
            if precision == .both {
                let int8 = EngineBench(textModel: textModel.converted(to: .int8), threads: n, memoryGBps: bandwidth)
                result.append(("int8", .object(try workloads(int8, sgemm: sgemm, corpus: corpus))))
            }
            if training { result.append(("training", .object(try TrainingBench(directory: model.url).run(sgemm: sgemm)))) }
        }
        if tokenizer || tokenizerOnly, let corpus {
            result.append(("tokenizer", tokenizerBenchJSON(tokenizer: textModel.tokenizer, texts: corpus, threads: n)))
        }
        print(JSON.object(result).text)
    }

    /// fixed, mixed and mixed_batch1 (with --texts), single and single_25, on one engine.
    private func workloads(_ bench: EngineBench, sgemm: Double, corpus: [String]?) throws -> [(String, JSON)] {
        let selected = workloads.isEmpty ? Workload.allCases : workloads
        var result: [(String, JSON)] = []
        if selected.contains(.fixed) { result.append(("fixed", .object(try bench.fixed(sgemm: sgemm)))) }
        if selected.contains(.mixed), let corpus {
            result.append(("mixed", .object(try bench.mixed(texts: corpus))))
            result.append(("mixed_batch1", .object(try bench.mixed(texts: corpus, batchSize: 1))))
        }
        if selected.contains(.single) {
            result.append(("single", .object(try bench.single())))
            result.append(("single_25", .object(try bench.single(EngineBench.longerSentence))))
        }
        return result
    }
}
