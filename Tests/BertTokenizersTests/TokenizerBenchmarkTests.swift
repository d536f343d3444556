import Dispatch
import Foundation
import XCTest
@testable import BertTokenizers

/// Throughput figures (no timed asserts): texts/s and tokens/s (special tokens counted) on
/// SST-2 train and IMDB test, one thread and two, as `bertctl bench --tokenizer` measures them.
/// Opt-in, since it takes a while: BERTD_TOKENIZER_BENCH=1 swift test -c release \
///   -Xswiftc -enable-testing --filter TokenizerBenchmarkTests
final class TokenizerBenchmarkTests: XCTestCase {
    func testThroughput() throws {
        guard ProcessInfo.processInfo.environment["BERTD_TOKENIZER_BENCH"] == "1" else {
            throw XCTSkip("set BERTD_TOKENIZER_BENCH=1 to run the tokenizer benchmark")
        }
        let data = try TestPaths.require(TestPaths.shared.appendingPathComponent("data"), "the benchmark reads ../shared/data")
        var models = [("cased-wordpiece", TestPaths.casedWordPiece), ("roberta-bpe", TestPaths.robertaBPE)]
        if FileManager.default.fileExists(atPath: TestPaths.miniLM.path) { models.insert(("uncased", TestPaths.miniLM), at: 0) }
        for corpus in ["sst2/train.tsv", "imdb/test.tsv"] {
            let texts = try tsvTexts(data.appendingPathComponent(corpus))
            for (name, directory) in models {
                let tokenizer = try Tokenizer(directory: directory)
                for text in texts.prefix(2000) { _ = tokenizer.encode(text) }
                for threads in [1, 2] {
                    let (seconds, cpuSeconds, tokens) = measure(tokenizer, texts, threads: threads)
                    // tokens per CPU-second shows contention between threads even on a busy
                    // machine, where wall-clock figures mostly show the other load.
                    print(String(format: "tokenizer bench %@ %@ threads=%d: %d texts, %d tokens, %.2f s, %.0f texts/s, %.0f tokens/s (%.0f tokens per CPU-second)",
                                 corpus, name, threads, texts.count, tokens, seconds,
                                 Double(texts.count) / seconds, Double(tokens) / seconds, Double(tokens) / cpuSeconds))
                }
            }
        }
    }

    private func measure(_ tokenizer: Tokenizer, _ texts: [String], threads: Int) -> (Double, Double, Int) {
        let chunk = (texts.count + threads - 1) / threads
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
        counts.initialize(repeating: 0)
        let cpu = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        cpu.initialize(repeating: 0)
        defer { counts.deallocate(); cpu.deallocate() }
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let lower = min(worker * chunk, texts.count), upper = min(lower + chunk, texts.count)
            var tokens = 0
            let cpuStart = threadCPUSeconds()
            for index in lower..<upper { tokens += tokenizer.encode(texts[index]).ids.count }
            cpu[worker] = threadCPUSeconds() - cpuStart
            counts[worker] = tokens
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return (seconds, cpu.reduce(0, +), counts.reduce(0, +))
    }

    private func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    private func tsvTexts(_ url: URL) throws -> [String] {
        let bytes = [UInt8](try Data(contentsOf: url))
        return bytes.split(separator: 10, omittingEmptySubsequences: false).dropFirst().filter { !$0.isEmpty }.map {
            String(decoding: $0.split(separator: 9, maxSplits: 1, omittingEmptySubsequences: false)[0], as: UTF8.self)
        }
    }
}
