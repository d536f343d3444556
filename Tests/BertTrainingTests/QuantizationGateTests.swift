import BertCore
import BertTokenizers
@testable import BertTraining
import Foundation
import XCTest

/// The int8 quality gate: a model whose int8 form is sound passes, one that int8 breaks is
/// refused saying why, the record in the directory guards serving (missing, failed, forced,
/// weights changed since), and a real fine-tuned classifier passes on SST-2's dev set.
final class QuantizationGateTests: XCTestCase {
    private let tinyBert = packageRoot.appendingPathComponent("Tests/BertCoreTests/Fixtures/tiny-bert")

    /// tiny-bert as it is: its random head gives one class for every text, int8 too.
    func testTinyBertPasses() throws {
        let model = try ModelLoader.load(directory: tinyBert)
        let result = try QuantizationGate().evaluate(randomData(count: 90, vocab: model.config.vocabSize), model: model)
        print("tiny-bert: agreement \(result.agreement), accuracy change \(result.accuracyChangePoints) points")
        XCTAssertTrue(result.passed, result.failureMessage)
        XCTAssertEqual(result.agreement, 1)
        XCTAssertEqual(result.examples, 90)
        XCTAssertEqual(result.failureMessage, "")
    }

    /// A feed-forward unit that is always off (bias −100: GELU gives 0) with an outlier weight in
    /// every row of the output layer reading it: fp32 multiplies the outlier by 0, int8's
    /// per-channel scale leaves one step for the rest of the row, so int8 loses the feed-forward
    /// sublayers and the labels part.
    func testModelThatInt8BreaksIsRefused() throws {
        let model = try ModelLoader.load(directory: tinyBert)
        try sharpenHead(model)
        for layer in model.tree.layers {
            model.parameters[layer.intermediate.bias][0] = -100
            let w = model.parameters[layer.output.weight]
            for r in 0..<layer.output.outFeatures {
                let row = w + r * layer.output.inFeatures
                row[0] = 1000 * (0..<layer.output.inFeatures).map { abs(row[$0]) }.max()!
            }
        }
        let result = try QuantizationGate().evaluate(randomData(count: 90, vocab: model.config.vocabSize), model: model)
        print("tiny-bert with outliers: agreement \(result.agreement); \(result.failureMessage)")
        XCTAssertFalse(result.passed)
        XCTAssertTrue(result.failures.contains("agreement"))
        XCTAssertTrue(result.failureMessage.contains("labels agree on"), result.failureMessage)
        XCTAssertLessThan(result.agreement, 0.99)
    }

    /// The gate decides as the model is served: at its tuned thresholds when it has them. Logits
    /// that agree at 0.5 / argmax part at a threshold between them (p 0.574 and 0.525 at 0.55).
    func testAgreementIsJudgedAtTheModelsThresholds() throws {
        var multi = TokenizedDataset(ids: [[2, 5, 3], [2, 6, 3]], typeIds: [[0, 0, 0], [0, 0, 0]], labels: [0, 0])
        multi.task = .multiLabel
        multi.labelSets = [[0], [0]]
        multi.outputs = 2
        let binary = TokenizedDataset(ids: [[2, 5, 3], [2, 6, 3]], typeIds: [[0, 0, 0], [0, 0, 0]], labels: [1, 1])
        let cases: [(TokenizedDataset, [Float], [Float], [Double])] = [
            (multi, [0.3, -1], [0.1, -1], [0.55, 0.5]),  // label 0: sigmoid 0.574 vs 0.525
            (binary, [0, 0.3], [0, 0.1], [0.5, 0.55]),   // label 1: softmax 0.574 vs 0.525
        ]
        for (data, fp32, int8, thresholds) in cases {
            let rows = { (row: [Float]) in { (batch: TokenBatch) in [[Float]](repeating: row, count: batch.count) } }
            let atDefault = try QuantizationGate().evaluate(data, labelNames: ["a", "b"], fp32: rows(fp32), int8: rows(int8))
            XCTAssertEqual(atDefault.agreement, 1, "\(data.task)")
            let tuned = try QuantizationGate().evaluate(data, labelNames: ["a", "b"], thresholds: thresholds, fp32: rows(fp32), int8: rows(int8))
            XCTAssertEqual(tuned.agreement, 0, "\(data.task)")
            XCTAssertEqual(tuned.failures.first, "agreement")
            XCTAssertEqual(tuned.accuracyChangePoints, -100, accuracy: 1e-9, "\(data.task): accuracy at the thresholds too")
        }
    }

    func testRecordGuardsServing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gate-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: tinyBert, to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        func refusal() -> String? {
            do { try QuantizationRecord.requireServable(directory: dir, precision: .int8); return nil } catch let e as BertError {
                return e.message
            } catch { return "\(error)" }
        }
        XCTAssertNoThrow(try QuantizationRecord.requireServable(directory: dir, precision: .fp32))
        XCTAssertTrue(refusal()?.contains("has no quantization.json") == true, refusal() ?? "served")

        var record = try makeRecord(directory: dir, passed: true)
        try record.write(directory: dir)
        XCTAssertEqual(try QuantizationRecord.read(directory: dir), record)
        XCTAssertNil(refusal())

        record = try makeRecord(directory: dir, passed: false)
        try record.write(directory: dir)
        XCTAssertTrue(refusal()?.contains("failed (agreement)") == true, refusal() ?? "served")
        record.forced = true
        try record.write(directory: dir)
        XCTAssertNil(refusal(), "a forced record is the operator's decision")

        // Retrained (here: one byte of the weights changed) after the gate: the record no longer holds
        let weights = dir.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: weights)
        XCTAssertTrue(refusal()?.contains("changed since") == true, refusal() ?? "served")
    }

    /// MiniLM fine-tuned on 4 000 SST-2 sentences (`SST2FineTunedMiniLM`, shared with ExplanationSentimentTests), then
    /// the gate over all 872 dev sentences. Observed: agreement 99.1 % (864 of 872), accuracy 82.57 % in both.
    func testFineTunedMiniLMOnSST2Dev() throws {
        let dev = try sharedData("sst2/dev.tsv")
        let out = try SST2FineTunedMiniLM.directoryAndReport().url

        let model = try ModelLoader.load(directory: out)
        let tokenizer = try Tokenizer(directory: out)
        let labelled = try Dataset.load(dev).labelled(with: try LabelSet(names: model.labels, minimum: 1))
        let tokenized = TokenizedDataset(labelled, tokenizer: tokenizer, maxLength: 128, threads: ComputeThreads.current)
        let result = try QuantizationGate().evaluate(tokenized, model: model)
        print(String(format: "fine-tuned MiniLM on SST-2 dev (%d texts): agreement %.4f, accuracy fp32 %.4f int8 %.4f (%+.2f points), macro-F1 %+.2f points",
                     result.examples, result.agreement, result.fp32.accuracy, result.int8.accuracy, result.accuracyChangePoints,
                     result.macroF1ChangePoints))
        XCTAssertEqual(result.examples, 872)
        XCTAssertGreaterThanOrEqual(result.agreement, 0.98)
        XCTAssertLessThanOrEqual(abs(result.accuracyChangePoints), 1.5)
        XCTAssertGreaterThan(result.fp32.accuracy, 0.75, "the fine-tuning itself")
    }

    // MARK: support

    /// tiny-bert's random encoder gives nearly the same [CLS] state for every text, so its head
    /// answers one class for all: scale the head's weights and centre its bias on the fp32
    /// logits' mean so that the answer depends on what the encoder (which int8 computes) adds.
    private func sharpenHead(_ model: TransformerModel) throws {
        let head = model.tree.head!.output
        let (w, b) = (model.parameters[head.weight], model.parameters[head.bias])
        for i in 0..<head.weight.count { w[i] *= 1000 }
        for i in 0..<head.bias.count { b[i] = 0 }
        let logits = try Evaluation.run(randomData(count: 90, vocab: model.config.vocabSize), model: model).logits
        for c in 0..<head.bias.count { b[c] = -logits.map { $0[c] }.reduce(0, +) / Float(logits.count) }
    }

    private func randomData(count: Int, vocab: Int) -> TokenizedDataset {
        var state: UInt64 = 17
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        var ids: [[Int32]] = [], types: [[Int32]] = [], labels: [Int] = []
        for _ in 0..<count {
            let n = 4 + next() % 20
            ids.append([2] + (0..<n).map { _ in Int32(5 + next() % (vocab - 5)) } + [3])
            types.append([Int32](repeating: 0, count: n + 2))
            labels.append(next() % 3)
        }
        return TokenizedDataset(ids: ids, typeIds: types, labels: labels)
    }

    private func makeRecord(directory: URL, passed: Bool) throws -> QuantizationRecord {
        QuantizationRecord(precision: .int8, passed: passed, forced: false, failures: passed ? [] : ["agreement"], agreement: passed ? 1 : 0.9,
                           minAgreement: 0.99, accuracyChangePoints: 0, macroF1ChangePoints: 0, maxAccuracyDropPoints: 0.5,
                           fp32: .init(accuracy: 0.5, macroF1: 0.5), int8: .init(accuracy: 0.5, macroF1: 0.5), examples: 90,
                           validationFile: "/dev/null", date: Date(), bertdVersion: "test", kernel: QuantizedKernel.best.rawValue,
                           weights: try WeightsFingerprint(directory: directory))
    }
}
