@testable import BertCore
import Foundation
import XCTest

/// `encode(…, output: .firstTokens)` — the last layer run for each sequence's first token alone,
/// what `classify` uses — gives the first-token rows of the full pass, for every family, in fp32
/// and int8, on every row path: one sequence, a few rows (split by columns), many tokens but
/// fewer than 48 sequences, and ≥ 48 sequences (split by rows).
final class FirstTokensOnlyTests: XCTestCase {
    private let families = ["tiny-bert", "tiny-distilbert", "tiny-roberta", "tiny-xlm-roberta", "tiny-electra"]
    /// fp32 gives the same sums in another order (observed ≤ 1.4e-6). int8 quantizes the query rows
    /// alike, but attention's summation order differs, and a last-bit difference can move an
    /// activation of the next layer across a rounding boundary: one int8 step (observed once on
    /// MiniLM: 5.8e-4; which values cross depends on the CPU's kernels). A wrong row, column or bias
    /// gives errors of 0.1 and more.
    private let int8Bound: Float = 5e-3

    func testTinyFamiliesMatchTheFullPass() throws {
        for name in families {
            let fp32 = try ModelLoader.load(directory: Fixtures.url(name))
            for model in [fp32, fp32.converted(to: .int8)] {
                for batch in batches(vocab: model.config.vocabSize) {
                    let diff = try firstTokenDifference(model, batch)
                    print("\(name) \(model.precision) \(batch.count) sequences, \(batch.tokenCount) tokens: max |Δ| = \(diff)")
                    XCTAssertLessThanOrEqual(diff, model.precision == .fp32 ? 2e-6 : int8Bound, "\(name) \(model.precision)")
                }
            }
        }
    }

    func testMiniLMMatchesTheFullPass() throws {
        let fp32 = try ModelLoader.load(directory: try miniLMDirectory(),
                                        extraWeights: [Fixtures.url("minilm/classifier_head_init.safetensors")])
        for model in [fp32, fp32.converted(to: .int8)] {
            for batch in batches(vocab: model.config.vocabSize) {
                let diff = try firstTokenDifference(model, batch)
                print("MiniLM \(model.precision) \(batch.count) sequences, \(batch.tokenCount) tokens: max |Δ| = \(diff)")
                XCTAssertLessThanOrEqual(diff, model.precision == .fp32 ? 2e-5 : int8Bound)
            }
        }
    }

    /// The head reads what the trimmed pass leaves: classify's logits are the head on it.
    func testClassifyReadsTheTrimmedPass() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let batch = batches(vocab: model.config.vocabSize)[2]
        let ws = model.makeWorkspace()
        try model.encode(batch, workspace: ws, output: .allTokens)
        let full = (0..<batch.count).map { model.hiddenStates(of: $0, in: batch, workspace: ws) }
        let logits = try model.classify(batch, workspace: ws)
        let h = model.config.hiddenSize
        let trimmed = (0..<batch.count).map { Array(UnsafeBufferPointer(start: ws.pooled.pointer + $0 * h, count: h)) }
        for s in 0..<batch.count {
            XCTAssertLessThanOrEqual(maxAbsDifference(Array(full[s].prefix(h)), trimmed[s]), 2e-6)
        }
        XCTAssertEqual(logits.count, batch.count)
    }

    /// Max |Δ| between each sequence's first row of last_hidden_state from the full pass and
    /// from the first-tokens pass.
    private func firstTokenDifference(_ model: TransformerModel, _ batch: TokenBatch) throws -> Float {
        let h = model.config.hiddenSize
        let ws = model.makeWorkspace()
        try model.encode(batch, workspace: ws, output: .allTokens)
        let full = (0..<batch.count).flatMap { s in
            Array(UnsafeBufferPointer(start: ws.hiddenStates.pointer + batch.sequenceStarts[s] * h, count: h))
        }
        try model.encode(batch, workspace: ws, output: .firstTokens)
        let trimmed = Array(UnsafeBufferPointer(start: ws.pooled.pointer, count: batch.count * h))
        return maxAbsDifference(full, trimmed)
    }

    /// One sequence; 3 sequences; 24 sequences (> 48 tokens, < 48 first rows); 60 sequences.
    private func batches(vocab: Int) -> [TokenBatch] {
        var rng = SplitMix(seed: 11)
        return [1, 3, 24, 60].map { count in
            var batch = TokenBatch()
            for _ in 0..<count {
                let n = 2 + Int(rng.next() % 20)
                batch.append(ids: (0..<n).map { _ in Int32(rng.next() % UInt64(vocab)) }, typeIds: nil)
            }
            return batch
        }
    }
}
