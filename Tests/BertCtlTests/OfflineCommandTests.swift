import BertCore
import Foundation
import XCTest

/// `bertctl classify/embed/tokenize --local` end to end: real process, real model.
final class OfflineCommandTests: XCTestCase {
    func testEmbedPrintsOneNormalisedVectorPerText() throws {
        let model = try miniLMPath()
        let result = try BertCtl.run(["embed", "--local", model, "The film was a delight.", "Terrible plot."])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        for line in lines {
            let vector = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [Double]
            XCTAssertEqual(vector.count, 384)
            XCTAssertEqual(vector.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1, accuracy: 1e-4)
        }
    }

    /// Stdin lines, zero-shot labels, JSON keys in the documented order, sensible answers.
    func testZeroShotClassifyFromStdin() throws {
        let model = try miniLMPath()
        let result = try BertCtl.run(["classify", "--local", model, "--labels", "sports, cooking, finance", "--json"],
                                     stdin: "the football team won the championship match\nbake the bread in a hot oven with butter and flour\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("{\"label\":"), lines[0])
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        XCTAssertEqual(first["label"] as? String, "sports")
        XCTAssertEqual(second["label"] as? String, "cooking")
        let scores = first["scores"] as! [String: Double]
        XCTAssertEqual(Set(scores.keys), ["sports", "cooking", "finance"])
        XCTAssertEqual(scores.values.reduce(0, +), 1, accuracy: 1e-4)
        XCTAssertEqual((first["logits"] as! [Double]).count, 3)
    }

    /// `bench` prints one JSON object with every workload; figures are reported, not judged.
    func testBenchPrintsEveryWorkload() throws {
        let texts = NSTemporaryDirectory() + "bertctl-bench-\(getpid()).tsv"
        try ("sentence\tlabel\n" + (0..<40).map { "benchmark sentence \($0) with a few words\t1" }.joined(separator: "\n") + "\n")
            .write(toFile: texts, atomically: true, encoding: .utf8)
        defer { unlink(texts) }
        let result = try BertCtl.run(["bench", "--local", tinyModelPath("tiny-bert"), "--texts", texts, "--training"], timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        let figures = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertGreaterThan(figures["sgemm_gflops"] as? Double ?? 0, 0)
        // The machine is named beside the figures: the CPU model as /proc/cpuinfo says it.
        let cpu = try XCTUnwrap(figures["cpu"] as? [String: Any], "cpu missing: \(figures)")
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        XCTAssertTrue(cpuinfo.contains("model name\t: \(cpu["model"] as? String ?? "?")"), "\(cpu)")
        XCTAssertTrue(["AVX-512 (512-bit)", "AVX2 + FMA (256-bit)", "AVX2 (256-bit)", "SSE (128-bit)"].contains(cpu["vector_isa"] as? String ?? ""), "\(cpu)")
        XCTAssertNotNil(cpu["avx2_half_width"] as? Bool)
        XCTAssertFalse((cpu["openblas_core"] as? String ?? "").isEmpty)
        for workload in ["mixed", "mixed_batch1"] {
            let w = try XCTUnwrap(figures[workload] as? [String: Any], "\(workload) missing: \(figures)")
            XCTAssertEqual(w["texts"] as? Int, 40, workload)
            XCTAssertGreaterThan(w["seq_per_s"] as? Double ?? 0, 0, workload)
        }
        XCTAssertEqual((figures["mixed"] as? [String: Any])?["tokens"] as? Int, (figures["mixed_batch1"] as? [String: Any])?["tokens"] as? Int)
        XCTAssertGreaterThan((figures["single"] as? [String: Any])?["p50_ms"] as? Double ?? 0, 0)
        XCTAssertNotNil(figures["fixed"] as? [String: Any])
        // Training: full and LoRA steps, each with its efficiency against the same run's sgemm.
        let training = try XCTUnwrap(figures["training"] as? [String: Any], "training missing: \(figures)")
        for method in ["full", "lora_r8_query_value"] {
            let m = try XCTUnwrap(training[method] as? [String: Any], method)
            for key in ["examples_per_s", "ms_per_step", "gflops", "efficiency"] { XCTAssertGreaterThan(m[key] as? Double ?? 0, 0, "\(method).\(key)") }
        }
        XCTAssertGreaterThan(training["lora_to_full_step_ratio"] as? Double ?? 0, 0)
    }

    /// `--workload` picks workloads (both precisions' figures follow it); mixed without texts is refused.
    func testBenchRunsTheChosenWorkloadsOnly() throws {
        let result = try BertCtl.run(["bench", "--local", tinyModelPath("tiny-bert"), "--workload", "single", "--precision", "both"],
                                     timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        let figures = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        // The floor of a batch of one: the dense weights read once at the run's memory bandwidth.
        let bandwidth = try XCTUnwrap(figures["memory_read_gbps"] as? Double, "memory_read_gbps missing: \(figures)")
        XCTAssertGreaterThan(bandwidth, 0)
        var weightMB: [Double] = []
        for part in [figures, try XCTUnwrap(figures["int8"] as? [String: Any], "int8 missing: \(figures)")] {
            for workload in ["single", "single_25"] {
                let w = try XCTUnwrap(part[workload] as? [String: Any], "\(workload) missing: \(part)")
                XCTAssertGreaterThan(w["p50_ms"] as? Double ?? 0, 0, "\(part)")
                let mb = try XCTUnwrap(w["weights_mb"] as? Double, "\(w)")
                XCTAssertEqual(w["weights_read_ms"] as? Double ?? 0, mb / bandwidth, accuracy: 1e-9 + 1e-9 * mb / bandwidth, "\(w)")
                weightMB.append(mb)
            }
            for absent in ["fixed", "mixed", "mixed_batch1"] { XCTAssertNil(part[absent], "\(absent) was not asked for") }
        }
        // tiny-bert's 2 layers of 4 dense weights, (96 + 32 + 64 + 64) × 32 floats each, in fp32.
        XCTAssertEqual(weightMB[0], Double(2 * (96 + 32 + 64 + 64) * 32 * 4) / 1e6, accuracy: 1e-12)
        XCTAssertLessThan(weightMB[2], weightMB[0] / 2, "int8 weights are read as int8")
        let kernels = try XCTUnwrap(figures["kernels"] as? [String: String], "kernels missing: \(figures)")
        XCTAssertEqual(kernels, ["small_m": SmallMKernel.best.rawValue, "int8": QuantizedKernel.best.rawValue])
        // --kernels avx2 runs (and names) the kernels a CPU without AVX-512 would run.
        if SmallMKernel.avx2.isAvailable && QuantizedKernel.avx2.isAvailable {
            let avx2 = try BertCtl.run(["bench", "--local", tinyModelPath("tiny-bert"), "--workload", "single", "--precision", "both",
                                        "--kernels", "avx2"], timeout: 300)
            XCTAssertEqual(avx2.status, 0, avx2.stderr)
            let avx2Figures = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(avx2.stdout.utf8)) as? [String: Any], avx2.stdout)
            XCTAssertEqual(avx2Figures["kernels"] as? [String: String], ["small_m": "avx2", "int8": "avx2"])
            XCTAssertGreaterThan(((avx2Figures["int8"] as? [String: Any])?["single"] as? [String: Any])?["p50_ms"] as? Double ?? 0, 0)
        }
        let refused = try BertCtl.run(["bench", "--local", tinyModelPath("tiny-bert"), "--workload", "mixed"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--workload mixed needs --texts"), refused.stderr)
    }

    /// `--window` reads a long text in windows (and says how many); a short one is one window.
    func testClassifyReadsLongTextsInWindows() throws {
        let long = Array(repeating: "w1 w2 w3 w4 w5", count: 30).joined(separator: " ")
        let result = try BertCtl.run(["classify", "--local", tinyModelPath("tiny-bert"), "--window", "16", "--stride", "4", "--json", long, "short one"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = result.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertGreaterThan(rows[0]["windows"] as? Int ?? 0, 10)
        XCTAssertEqual(rows[1]["windows"] as? Int, 1)
        XCTAssertEqual(rows[0]["truncated"] as? Bool, false)
        let bad = try BertCtl.run(["classify", "--local", tinyModelPath("tiny-bert"), "--window", "128", "text"])
        XCTAssertNotEqual(bad.status, 0, "a window wider than the model's 64 positions")
        XCTAssertTrue(bad.stderr.contains("window"), bad.stderr)
    }

    func testClassifyWithHeadUsesConfigLabels() throws {
        let result = try BertCtl.run(["classify", "--local", tinyModelPath("tiny-distilbert"), "--json", "hello world"])
        // tiny-distilbert has a head but no tokenizer files of its own beyond vocab.txt.
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        XCTAssertTrue(["neg", "neu", "pos"].contains(object["label"] as! String))
    }

    func testEmbeddingModelWithoutLabelsIsAClearError() throws {
        let result = try BertCtl.run(["classify", "--local", try miniLMPath(), "hello"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("no classification head"), result.stderr)
        XCTAssertTrue(result.stdout.isEmpty)
    }
}
