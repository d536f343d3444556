@testable import BertCore
import BertPipeline
import Foundation
import XCTest

/// A model in int8 against the same model in fp32: the tiny BERT fixture (few- and many-row
/// paths), MiniLM's embeddings and seeded-head logits, and zero-shot labels of SST-2's dev set.
/// Bounds were set from the values printed here, with headroom; fp32 itself is not changed by
/// loading an int8 copy (its parity tests run untouched).
final class QuantizedModelTests: XCTestCase {
    func testTinyBertInt8LogitsAreCloseToFp32() throws {
        let fp32 = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let int8 = fp32.converted(to: .int8)
        XCTAssertEqual(int8.precision, .int8)
        XCTAssertTrue(int8.parameters === fp32.parameters, "the fp32 weights are shared, not copied")
        for batch in [try referenceBatch(), randomBatch(sequences: 24, vocab: fp32.config.vocabSize, seed: 2)] {
            // 22 tokens: the few-row path (split by columns); 24 sequences of 3–17 tokens: by rows
            let a = try fp32.classify(batch, workspace: fp32.makeWorkspace()).flatMap { $0 }
            let b = try int8.classify(batch, workspace: int8.makeWorkspace()).flatMap { $0 }
            let scale = a.map { abs($0) }.max()!
            let diff = maxAbsDifference(a, b)
            print("tiny-bert int8 vs fp32, \(batch.tokenCount) tokens: logits max |Δ| = \(diff) (max |logit| \(scale))")
            XCTAssertLessThanOrEqual(diff, 5e-4)  // observed 1.3e-4 (6e-6 with fp32 word embeddings)
        }
    }

    /// Integer sums are exact and the output stage is the same arithmetic, so every kernel gives
    /// the same bits: a quality gate passed on one CPU holds on another.
    func testEveryKernelGivesTheSameLogits() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"), precision: .int8)
        defer { QuantizedKernel.active = QuantizedKernel.best }
        for batch in [try referenceBatch(), randomBatch(sequences: 24, vocab: model.config.vocabSize, seed: 3)] {
            var results: [[Float]] = []
            for kernel in QuantizedKernel.available {
                QuantizedKernel.active = kernel
                results.append(try model.classify(batch, workspace: model.makeWorkspace()).flatMap { $0 })
            }
            for (kernel, logits) in zip(QuantizedKernel.available, results) {
                XCTAssertEqual(logits, results[0], "\(kernel.rawValue) vs \(QuantizedKernel.available[0].rawValue)")
            }
        }
    }

    func testFp32IsUnchangedByAnInt8Copy() throws {
        let fp32 = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        XCTAssertTrue(fp32.converted(to: .fp32) === fp32)
        XCTAssertEqual(fp32.precision, .fp32)
        let batch = randomBatch(sequences: 24, vocab: fp32.config.vocabSize, seed: 4)
        let before = try fp32.classify(batch, workspace: fp32.makeWorkspace())
        let int8 = fp32.converted(to: .int8)
        _ = try int8.classify(batch, workspace: int8.makeWorkspace())
        XCTAssertEqual(try fp32.classify(batch, workspace: fp32.makeWorkspace()), before)
        XCTAssertEqual(try ModelLoader.load(directory: Fixtures.url("tiny-bert"), precision: .fp32).classify(batch, workspace: fp32.makeWorkspace()),
                       before)
    }

    func testMiniLMInt8EmbeddingsLogitsAndMemory() throws {
        let fp32 = try ModelLoader.load(directory: try miniLMDirectory(),
                                        extraWeights: [Fixtures.url("minilm/classifier_head_init.safetensors")])
        let int8 = fp32.converted(to: .int8)
        let ref = try Fixtures.safetensors("minilm/head_logits.safetensors")
        let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                                  typeIds: try ref.integers("input.token_type_ids"), rows: 8)
        let a = try fp32.classify(batch, workspace: fp32.makeWorkspace()).flatMap { $0 }
        let b = try int8.classify(batch, workspace: int8.makeWorkspace()).flatMap { $0 }
        let logitDiff = maxAbsDifference(a, b)
        print("MiniLM + seeded head, int8 vs fp32: logits max |Δ| = \(logitDiff) (max |logit| \(a.map { abs($0) }.max()!))")
        XCTAssertLessThanOrEqual(logitDiff, 0.02)  // observed 4.5e-3

        let ea = try fp32.embed(batch, workspace: fp32.makeWorkspace()), eb = try int8.embed(batch, workspace: int8.makeWorkspace())
        let cosines = zip(ea, eb).map { x, y in zip(x, y).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        print("MiniLM int8 vs fp32: embedding cosine min \(cosines.min()!)")
        XCTAssertGreaterThanOrEqual(cosines.min()!, 0.985)  // observed 0.9901

        // The dense weights of the encoder: int8 ≈ a quarter of fp32 (plus scales and column sums)
        let (dense32, dense8) = (fp32.encoderDenseWeightBytes, int8.encoderDenseWeightBytes)
        print("MiniLM resident weights: fp32 \(fp32.residentWeightBytes) bytes, int8 \(int8.residentWeightBytes) bytes "
              + "(the encoder's dense layers: fp32 \(dense32), int8 \(dense8), ratio \(Double(dense8) / Double(dense32)))")
        XCTAssertLessThan(Double(dense8) / Double(dense32), 0.26)
        let (vocab, width) = (fp32.config.vocabSize, fp32.tree.embeddings.width)
        XCTAssertEqual(int8.residentWeightBytes, fp32.residentWeightBytes + dense8 + vocab * width + vocab * 4,
                       "an int8 copy sharing the arena adds its int8 dense layers and word table")
    }

    /// Loading for int8 serving gives back the pages of the fp32 weights held in int8 (the kernel
    /// says they are no longer resident), computes exactly what an int8 copy of an fp32 load computes,
    /// and explanations get the directory loaded again in fp32.
    func testInt8LoadGivesBackTheFp32Weights() throws {
        let directory = try miniLMDirectory()
        let fp32 = try ModelLoader.load(directory: directory)
        let served = try ModelLoader.load(directory: directory, precision: .int8)
        XCTAssertTrue(served.fp32WeightsReleased)
        XCTAssertFalse(fp32.converted(to: .int8).fp32WeightsReleased, "an int8 copy sharing an fp32 model's arena keeps it")

        let dense32 = fp32.encoderDenseWeightBytes, dense8 = served.encoderDenseWeightBytes
        let (vocab, width) = (fp32.config.vocabSize, fp32.tree.embeddings.width)
        let table32 = vocab * width * 4, table8 = vocab * width + vocab * 4
        print("MiniLM served in int8: \(served.releasedWeightBytes) of \(dense32 + table32) fp32 bytes (dense layers and word "
              + "embeddings) given back; resident weights \(served.residentWeightBytes) bytes, fp32 \(fp32.residentWeightBytes) "
              + "(ratio \(Double(served.residentWeightBytes) / Double(fp32.residentWeightBytes))); int8 dense layers \(dense8), word table \(table8)")
        XCTAssertGreaterThan(Double(served.releasedWeightBytes), 0.99 * Double(dense32 + table32))
        XCTAssertEqual(served.residentWeightBytes, fp32.residentWeightBytes - served.releasedWeightBytes + dense8 + table8)
        XCTAssertLessThan(Double(served.residentWeightBytes) / Double(fp32.residentWeightBytes), 0.3, "about a quarter")

        // The kernel's view: mincore over the whole pages inside the first layer's intermediate weight.
        let weight = served.tree.layers[0].intermediate.weight
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: served.parameters[weight]) + page - 1) / page * page
        let pages = (Int(bitPattern: served.parameters[weight]) + weight.count * 4) / page - start / page
        var resident = [UInt8](repeating: 1, count: pages)
        XCTAssertEqual(mincore(UnsafeMutableRawPointer(bitPattern: start), pages * page, &resident), 0)
        XCTAssertEqual(resident.filter { $0 & 1 != 0 }.count, 0, "released weight pages are still resident")

        let ref = try Fixtures.safetensors("minilm/head_logits.safetensors")
        let batch = unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                                  typeIds: try ref.integers("input.token_type_ids"), rows: 8)
        let copy = fp32.converted(to: .int8)
        XCTAssertEqual(try served.embed(batch, workspace: served.makeWorkspace()), try copy.embed(batch, workspace: copy.makeWorkspace()))

        let text = try TextModel(directory: directory, precision: .int8)
        let explained = try text.explanationModel()
        XCTAssertEqual(explained.precision, .fp32)
        XCTAssertFalse(explained.fp32WeightsReleased)
        XCTAssertEqual(try explained.embed(batch, workspace: explained.makeWorkspace()), try fp32.embed(batch, workspace: fp32.makeWorkspace()))
        let plain = try TextModel(directory: directory)
        XCTAssertTrue(try plain.explanationModel() === plain.model, "an fp32 model is explained as it is")
    }

    /// Zero-shot sentiment of SST-2's 872 dev sentences: the int8 label agrees with fp32's on the
    /// texts fp32 decides by a margin (zero-shot margins are small: a cosine difference of 0.025 is
    /// a logit margin of 0.5), and on most of the rest.
    func testMiniLMZeroShotLabelsAgreeOnSST2Dev() throws {
        let directory = try miniLMDirectory()
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/sst2/dev.tsv")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("../shared/data/sst2/dev.tsv is absent") }
        let texts = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst()
            .map { String($0.split(separator: "\t")[0]) }
        let fp32 = try TextModel(directory: directory)
        let int8 = try TextModel(directory: directory, precision: .int8)
        XCTAssertEqual(int8.precision, .int8)
        func classify(_ model: TextModel) throws -> [Classification] {
            let ws = model.makeWorkspace()
            let zeroShot = try ZeroShotLabels(labels: ["positive", "negative"], model: model, workspace: ws)
            var out: [Classification] = []
            for start in stride(from: 0, to: texts.count, by: 32) {
                let inputs = try texts[start..<min(start + 32, texts.count)].map { try model.prepare($0) }
                out += try model.classify(inputs, zeroShot: zeroShot, workspace: ws)
            }
            return out
        }
        let (a, b) = (try classify(fp32), try classify(int8))
        func agreement(margin: Float) -> (Double, Int) {
            let kept = zip(a, b).filter { abs($0.0.logits[0] - $0.0.logits[1]) >= margin }
            return (Double(kept.filter { $0.0.label == $0.1.label }.count) / Double(max(kept.count, 1)), kept.count)
        }
        for margin: Float in [0, 0.25, 0.5, 1] {
            let (share, count) = agreement(margin: margin)
            print("MiniLM zero-shot on SST-2 dev, int8 vs fp32: label agreement \(share) on the \(count) texts with fp32 margin ≥ \(margin)")
        }
        XCTAssertGreaterThanOrEqual(agreement(margin: 0).0, 0.88)  // observed 0.919
        XCTAssertGreaterThanOrEqual(agreement(margin: 0.5).0, 0.99)  // observed 1.0 (530 texts)
    }

    // MARK: support

    private func referenceBatch() throws -> TokenBatch {
        let ref = try Fixtures.safetensors("tiny-bert/reference.safetensors")
        return unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                             typeIds: try ref.integers("input.token_type_ids"), rows: 3)
    }

    private func randomBatch(sequences: Int, vocab: Int, seed: UInt64) -> TokenBatch {
        var rng = SplitMix(seed: seed)
        var batch = TokenBatch()
        for _ in 0..<sequences {
            let n = 3 + Int(rng.next() % 15)
            batch.append(ids: (0..<n).map { _ in Int32(rng.next() % UInt64(vocab)) }, typeIds: nil)
        }
        return batch
    }
}
