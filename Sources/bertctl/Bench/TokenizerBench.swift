import BertProtocol
import BertTokenizers
import Foundation

/// Tokenizer throughput over a corpus: texts/s and tokens/s (tokens counted with the special
/// tokens, no truncation), on one thread and on `threads` threads, each thread taking one
/// contiguous chunk of the texts (how a batch would be split).
struct TokenizerBenchResult {
    struct Run {
        let threads: Int
        let seconds: Double
        let textsPerSecond: Double
        let tokensPerSecond: Double
    }

    let texts: Int
    let tokens: Int
    let singleThread: Run
    let multiThread: Run
}

func runTokenizerBench(tokenizer: Tokenizer, texts: [String], threads: Int) -> TokenizerBenchResult {
    // Warm-up pass: page in the vocabulary tables and let the allocator settle.
    for text in texts { _ = tokenizer.encode(text) }

    func timedRun(threads: Int) -> (seconds: Double, tokens: Int) {
        let chunk = (texts.count + threads - 1) / max(threads, 1)
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        let start = Stopwatch.now()
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            var tokens = 0
            let lower = min(worker * chunk, texts.count), upper = min(lower + chunk, texts.count)
            for index in lower..<upper { tokens += tokenizer.encode(texts[index]).ids.count }
            counts[worker] = tokens
        }
        return (Stopwatch.now() - start, counts.reduce(0, +))
    }

    func run(threads: Int) -> (TokenizerBenchResult.Run, Int) {
        let (seconds, tokens) = timedRun(threads: threads)
        return (TokenizerBenchResult.Run(threads: threads, seconds: seconds,
                                         textsPerSecond: Double(texts.count) / seconds,
                                         tokensPerSecond: Double(tokens) / seconds), tokens)
    }

    let (single, tokens) = run(threads: 1)
    let (multi, _) = run(threads: max(1, threads))
    return TokenizerBenchResult(texts: texts.count, tokens: tokens, singleThread: single, multiThread: multi)
}

/// The benchmark as `bertctl bench` prints it.
func tokenizerBenchJSON(tokenizer: Tokenizer, texts: [String], threads: Int) -> JSON {
    let result = runTokenizerBench(tokenizer: tokenizer, texts: texts, threads: threads)
    func run(_ run: TokenizerBenchResult.Run) -> JSON {
        .object([
            ("threads", .int(run.threads)),
            ("seconds", .number(run.seconds)),
            ("texts_per_second", .number(run.textsPerSecond.rounded())),
            ("tokens_per_second", .number(run.tokensPerSecond.rounded())),
        ])
    }
    return .object([
        ("texts", .int(result.texts)),
        ("tokens", .int(result.tokens)),
        ("single_thread", run(result.singleThread)),
        ("multi_thread", run(result.multiThread)),
    ])
}
