import BertCore
import BertTokenizers
import BertTraining
import Foundation
import XCTest

/// Integrated gradients of one 25-token sentence on MiniLM with 32 steps: the 32 points as one
/// padding-free batch (forward + backward of 32 sequences) against 32 batch-of-one passes.
/// Opt-in:
///   BERTD_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter ExplanationBenchmarkTests
final class ExplanationBenchmarkTests: XCTestCase {
    func testOneSentenceBatchedAgainstSeparatePasses() throws {
        guard ProcessInfo.processInfo.environment["BERTD_BENCH"] == "1" else {
            throw XCTSkip("set BERTD_BENCH=1 to run the explanation benchmark")
        }
        let directory = try miniLMDirectory()
        let model = try ModelLoader.load(directory: directory, extraWeights: [Fixtures.url("minilm/classifier_head_init.safetensors")])
        let tokenizer = try Tokenizer(directory: directory)
        let text = "the film's opening hour is slow and confusing, but its final act is a moving, beautifully acted triumph"
        let e = tokenizer.encode(text)
        let explainer = Explainer(model: model)
        func explain(maxSequences: Int) throws -> IntegratedGradientsResult {
            try explainer.finish(try explainer.makeRun(ids: e.ids, typeIds: e.typeIds, special: e.specialTokensMask, steps: 32),
                                 maxTokens: 100_000, maxSequences: maxSequences)
        }
        _ = try explain(maxSequences: 64)  // warm-up: buffers grow once
        var timings: [(String, Double, IntegratedGradientsResult)] = []
        for (label, maxSequences) in [("one batch of 32 sequences", 64), ("32 batch-of-one passes", 1)] {
            var best = Double.infinity
            var result: IntegratedGradientsResult?
            for _ in 0..<5 {
                let start = monotonicSeconds()
                result = try explain(maxSequences: maxSequences)
                best = min(best, monotonicSeconds() - start)
            }
            timings.append((label, best, result!))
        }
        for (label, seconds, result) in timings {
            print(String(format: "IG, MiniLM-L6, %d tokens, 32 steps, %d threads, %@: %.1f ms per explanation (best of 5; gap %.1e)",
                         e.ids.count, ComputeThreads.current, label, seconds * 1e3, result.attributions[0].completenessGap))
        }
        print(String(format: "batched is %.1f× faster", timings[1].1 / timings[0].1))
        // The same numbers either way (this is not a timing assertion).
        XCTAssertEqual(timings[0].2.attributions[0].tokens.count, timings[1].2.attributions[0].tokens.count)
    }
}
