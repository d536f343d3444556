import BertCore
import XCTest

/// The real all-MiniLM-L6-v2 against Hugging Face (../shared/fixtures/minilm): 20 sentences of
/// 4–56 tokens as one padding-free batch.
final class MiniLMParityTests: XCTestCase {
    func testEncoderPoolerAndEmbeddings() throws {
        let model = try ModelLoader.load(directory: try miniLMDirectory())
        XCTAssertFalse(model.hasClassificationHead)
        let ref = try Fixtures.safetensors("minilm/encoder.safetensors")
        let mask = try ref.integers("attention_mask")
        let batch = unpaddedBatch(ids: try ref.integers("input_ids"), mask: mask, typeIds: try ref.integers("token_type_ids"), rows: 20)
        let ws = model.makeWorkspace()
        try model.encode(batch, workspace: ws)

        let hidden = try ref.floats("last_hidden_state")  // [20, 56, 384], padded
        var worst: Float = 0
        for s in 0..<20 {
            let mine = model.hiddenStates(of: s, in: batch, workspace: ws)
            let theirs = Array(hidden[(s * 56 * 384)..<((s * 56 + batch.length(of: s)) * 384)])
            worst = max(worst, maxAbsDifference(mine, theirs))
        }
        print("MiniLM last_hidden_state max |Δ| = \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-4)

        let pooler = try model.poolerOutput(batch, workspace: ws)
        let poolerDiff = maxAbsDifference(pooler.flatMap { $0 }, try ref.floats("pooler_output"))
        print("MiniLM pooler_output max |Δ| = \(poolerDiff)")
        XCTAssertLessThanOrEqual(poolerDiff, 1e-4)

        let embeddings = try model.embed(batch, workspace: ws)
        let embDiff = maxAbsDifference(embeddings.flatMap { $0 }, try ref.floats("mean_pooled_normalized"))
        print("MiniLM mean_pooled_normalized max |Δ| = \(embDiff)")
        XCTAssertLessThanOrEqual(embDiff, 1e-4)
    }

    func testLogitsWithSeededHead() throws {
        let model = try ModelLoader.load(directory: try miniLMDirectory(),
                                         extraWeights: [Fixtures.url("minilm/classifier_head_init.safetensors")])
        XCTAssertTrue(model.hasClassificationHead)
        XCTAssertEqual(model.numLabels, 3)
        let ref = try Fixtures.safetensors("minilm/head_logits.safetensors")
        let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                                  typeIds: try ref.integers("input.token_type_ids"), rows: 8)
        let logits = try model.classify(batch, workspace: model.makeWorkspace())
        let diff = maxAbsDifference(logits.flatMap { $0 }, try ref.floats("output.logits"))
        print("MiniLM + seeded head: logits max |Δ| = \(diff)")
        XCTAssertLessThanOrEqual(diff, 1e-4)
    }
}
