import BertCore
import BertTraining
import Foundation
import XCTest

final class TrainerTests: XCTestCase {
    private func tinyBatch(_ name: String) throws -> (TokenBatch, [Int]) {
        let ref = try Fixtures.safetensors("\(name)/reference.safetensors")
        return (unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"), typeIds: nil, rows: 3),
                try ref.integers("input.labels"))
    }

    /// Two micro-batches (2 + 1 sequences) with loss scales 2/3 and 1/3 accumulate the
    /// gradient of the whole batch's mean loss.
    func testGradientAccumulation() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-roberta"))
        let (batch, labels) = try tinyBatch("tiny-roberta")
        let whole = try Trainer(model: model)
        try whole.forwardBackward(batch, labels: labels)
        let parts = try Trainer(model: model)
        func part(_ sequences: Range<Int>) -> TokenBatch {
            var b = TokenBatch()
            for s in sequences { b.append(ids: Array(batch.ids[batch.sequenceStarts[s]..<batch.sequenceStarts[s + 1]])) }
            return b
        }
        try parts.forwardBackward(part(0..<2), labels: Array(labels[0..<2]), lossScale: 2.0 / 3)
        try parts.forwardBackward(part(2..<3), labels: [labels[2]], zeroingGradients: false, lossScale: 1.0 / 3)
        let a = Array(UnsafeBufferPointer(start: whole.gradients.base, count: whole.gradients.count))
        let b = Array(UnsafeBufferPointer(start: parts.gradients.base, count: parts.gradients.count))
        expectClose("accumulated vs whole-batch gradients", b, a, tolerance: 1e-5, relative: true)  // summation order differs
    }

    /// DistilBERT with sinusoidal_pos_embds keeps its position table fixed, as HF does.
    func testSinusoidalPositionsAreNotTrained() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bertd-sinusoidal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Fixtures.url("tiny-distilbert"), to: dir)
        let configURL = dir.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        json["sinusoidal_pos_embds"] = true
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        let model = try ModelLoader.load(directory: dir)
        XCTAssertTrue(model.config.sinusoidalPositionEmbeddings)
        let (batch, labels) = try tinyBatch("tiny-distilbert")
        let trainer = try Trainer(model: model)
        try trainer.forwardBackward(batch, labels: labels)
        let name = "distilbert.embeddings.position_embeddings.weight"
        XCTAssertFalse(trainer.parameterGroups[0].specs.contains { $0.name == name })
        XCTAssertFalse(trainer.gradients.values(named: name)!.contains { $0 != 0 })
        XCTAssertTrue(trainer.gradients.values(named: "distilbert.embeddings.word_embeddings.weight")!.contains { $0 != 0 })
    }
}
