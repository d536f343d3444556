import BertCore
import XCTest

/// Logits of the tiny random models of every family against Hugging Face
/// (Fixtures/tiny-*/reference.safetensors, made by Tests/FixtureGenerators), fed the fixture's token ids.
final class TinyModelParityTests: XCTestCase {
    func testBertLogits() throws { try checkLogits("tiny-bert", family: .bert, hasTypes: true) }
    func testDistilBertLogits() throws { try checkLogits("tiny-distilbert", family: .distilbert, hasTypes: false) }
    func testRobertaLogits() throws { try checkLogits("tiny-roberta", family: .roberta, hasTypes: false) }
    /// RoBERTa's modules under model_type xlm-roberta, whose weight prefix is `roberta`.
    func testXLMRobertaLogits() throws { try checkLogits("tiny-xlm-roberta", family: .xlmRoberta, hasTypes: false) }
    /// Embeddings of width 16 projected to the hidden size 32, and a GELU head.
    func testElectraLogits() throws { try checkLogits("tiny-electra", family: .electra, hasTypes: true) }

    /// Every family is described once, with the names transformers uses.
    func testFamilyDescriptions() {
        XCTAssertEqual(ModelFamily.supportedList, "bert, distilbert, roberta, xlm-roberta, electra")
        XCTAssertEqual(ModelFamily.named("xlm-roberta")?.weightPrefix, "roberta")
        XCTAssertEqual(ModelFamily.electra.layerModule(1, ModelFamily.electra.layerModules.query),
                       "electra.encoder.layer.1.attention.self.query")
        XCTAssertEqual(ModelFamily.distilbert.layerModule(0, ModelFamily.distilbert.layerModules.intermediate),
                       "distilbert.transformer.layer.0.ffn.lin1")
        XCTAssertNil(ModelFamily.named("gpt2"))
        XCTAssertEqual(Set(ModelFamily.all.map(\.sequenceClassificationArchitecture)).count, ModelFamily.all.count)
    }

    func testElectraProjectsItsEmbeddings() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-electra"))
        XCTAssertEqual(model.config.embeddingSize, 16)
        XCTAssertEqual(model.tree.embeddings.projection?.weight.shape, [32, 16])
        XCTAssertEqual(model.tree.layout.spec(named: "electra.embeddings.word_embeddings.weight")?.ref.shape, [512, 16])
        XCTAssertNil(model.tree.pooler)
    }

    private func checkLogits(_ name: String, family: ModelFamily, hasTypes: Bool) throws {
        let model = try ModelLoader.load(directory: Fixtures.url(name))
        XCTAssertEqual(model.family, family)
        XCTAssertEqual(model.labels, ["neg", "neu", "pos"])
        let ref = try Fixtures.safetensors("\(name)/reference.safetensors")
        let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                                  typeIds: hasTypes ? try ref.integers("input.token_type_ids") : nil, rows: 3)
        XCTAssertEqual((0..<3).map { batch.length(of: $0) }, [11, 7, 4])
        let logits = try model.classify(batch, workspace: model.makeWorkspace())
        let expected = try ref.floats("output.logits")
        let diff = maxAbsDifference(logits.flatMap { $0 }, expected)
        print("\(name): logits max |Δ| = \(diff)")
        XCTAssertLessThanOrEqual(diff, 1e-5, "\(name) logits differ from Hugging Face by \(diff)")
    }

    /// A sequence's logits do not depend on what else is in its batch (padding-free batching).
    func testLogitsIndependentOfBatchComposition() throws {
        for name in ["tiny-bert", "tiny-distilbert", "tiny-roberta", "tiny-xlm-roberta", "tiny-electra"] {
            let model = try ModelLoader.load(directory: Fixtures.url(name))
            let ref = try Fixtures.safetensors("\(name)/reference.safetensors")
            let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                                      typeIds: nil, rows: 3)
            let ws = model.makeWorkspace()
            let together = try model.classify(batch, workspace: ws)
            for s in [2, 0, 1] {  // alone, in another order, reusing the grown workspace
                var single = TokenBatch()
                single.append(ids: Array(batch.ids[batch.sequenceStarts[s]..<batch.sequenceStarts[s + 1]]))
                let alone = try model.classify(single, workspace: ws)[0]
                XCTAssertLessThanOrEqual(maxAbsDifference(alone, together[s]), 1e-5, "\(name) sequence \(s)")
            }
            var reversed = TokenBatch()
            for s in (0..<3).reversed() { reversed.append(ids: Array(batch.ids[batch.sequenceStarts[s]..<batch.sequenceStarts[s + 1]])) }
            let back = try model.classify(reversed, workspace: model.makeWorkspace())
            for s in 0..<3 { XCTAssertLessThanOrEqual(maxAbsDifference(back[2 - s], together[s]), 1e-5) }
        }
    }

    func testRejectsIdsOutsideTheTables() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let ws = model.makeWorkspace()
        XCTAssertThrowsError(try model.classify(TokenBatch(sequences: [[101, 512]]), workspace: ws)) {
            XCTAssertEqual(($0 as? BertError)?.code, .invalidInput)
        }
        XCTAssertThrowsError(try model.classify(TokenBatch(sequences: [[]]), workspace: ws))
        XCTAssertThrowsError(try model.classify(TokenBatch(sequences: [[1, 2]], typeIds: [[0, 2]]), workspace: ws))
        XCTAssertThrowsError(try model.classify(TokenBatch(sequences: [Array(repeating: 5, count: 65)]), workspace: ws)) {
            XCTAssertTrue("\($0)".contains("at most 64"), "\($0)")
        }
        // RoBERTa's positions start at padding_idx + 1 = 2, so 66 position rows hold 64 tokens.
        let roberta = try ModelLoader.load(directory: Fixtures.url("tiny-roberta"))
        XCTAssertEqual(roberta.config.maxSequenceLength, 64)
        XCTAssertNoThrow(try roberta.classify(TokenBatch(sequences: [Array(repeating: 5, count: 64)]), workspace: roberta.makeWorkspace()))
    }
}
