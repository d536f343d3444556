import Foundation
import XCTest

/// `bertctl explain --local` and `bertctl eval --errors` on the tiny BERT classifier: the
/// non-terminal word[+0.42] view, the JSON, the self-contained reports, and bad arguments.
final class ExplainCommandTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bertctl-explain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func testWordsAreBracketedWithTheirAttributionWhenNotATerminal() throws {
        let r = try BertCtl.run(["explain", "--local", tinyModelPath("tiny-bert"), "--label", "pos", "the film, sadly, was long"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, r.stdout)
        XCTAssertTrue(lines[0].hasPrefix("pos (p="), String(lines[0]))
        XCTAssertTrue(lines[0].contains("completeness gap"), String(lines[0]))
        // Every word and punctuation mark of the text, in order, each with a signed number.
        let pattern = try NSRegularExpression(pattern: #"([^\s\[\]]+)\[([+-][0-9.e+-]+)\]"#)
        let text = String(lines[1])
        let words = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { String(text[Range($0.range(at: 1), in: text)!]) }
        XCTAssertEqual(words, ["the", "film", ",", "sadly", ",", "was", "long"])
        XCTAssertFalse(r.stdout.contains("\u{1B}["), "no colour codes when stdout is not a terminal")
    }

    func testJSONCarriesTheNumbersAndTheyAddUp() throws {
        let r = try BertCtl.run(["explain", "--local", tinyModelPath("tiny-bert"), "--json", "--steps", "64", "one text", "another text here"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let objects = try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(objects.count, 2)
        for o in objects {
            let tokens = o["tokens"] as! [[String: Any]]
            let target = (o["attributions"] as! [[String: Any]])[0]
            let values = target["tokens"] as! [Double]
            XCTAssertEqual(values.count, tokens.count)
            XCTAssertEqual(values.first, 0, "[CLS] keeps its embedding in the baseline")
            let delta = (target["logit"] as! Double) - (target["baseline_logit"] as! Double)
            XCTAssertEqual(values.reduce(0, +) - delta, target["completeness_gap"] as! Double, accuracy: 1e-6)
            XCTAssertEqual(target["label"] as? String, o["label"] as? String, "the predicted label by default")
            XCTAssertEqual(o["steps"] as? Int, 64)
        }
    }

    /// --window: a long text is explained over every window, each token once, as classify decides.
    func testLongTextsAreExplainedOverTheirWindows() throws {
        let tiny = tinyModelPath("tiny-bert")
        let text = (0..<50).map { "w\($0 % 10)" }.joined(separator: " ")
        let windowed = ["--window", "16", "--stride", "4"]
        let c = try BertCtl.run(["classify", "--local", tiny, "--json", text] + windowed)
        XCTAssertEqual(c.status, 0, c.stderr)
        let classified = try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as! [String: Any]
        let r = try BertCtl.run(["explain", "--local", tiny, "--json", "--steps", "32", text] + windowed)
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(e["windows"] as? Int, classified["windows"] as? Int)
        XCTAssertGreaterThan(e["windows"] as? Int ?? 0, 1)
        XCTAssertEqual(e["label"] as? String, classified["label"] as? String)
        XCTAssertEqual((e["tokens"] as! [Any]).count, 52, "50 words and [CLS] … [SEP], each once")
        let target = (e["attributions"] as! [[String: Any]])[0]
        let values = target["tokens"] as! [Double]
        let delta = (target["logit"] as! Double) - (target["baseline_logit"] as! Double)
        XCTAssertEqual(values.reduce(0, +) - delta, target["completeness_gap"] as! Double, accuracy: 1e-6)
        for (got, want) in zip(e["logits"] as! [Double], classified["logits"] as! [Double]) { XCTAssertEqual(got, want, accuracy: 1e-5) }
        let terminal = try BertCtl.run(["explain", "--local", tiny, "--steps", "8", text] + windowed)
        XCTAssertEqual(terminal.status, 0, terminal.stderr)
        XCTAssertTrue(terminal.stdout.contains("; read in \(e["windows"] as? Int ?? 0) windows"), terminal.stdout)
        // The report draws attention maps for the texts that fit one window only.
        let html = scratch.appendingPathComponent("long.html").path
        let report = try BertCtl.run(["explain", "--local", tiny, "--steps", "8", "--html", html, text, "a short one"] + windowed)
        XCTAssertEqual(report.status, 0, report.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("w9") && page.contains("short"), "both texts are in the report")
        XCTAssertEqual(page.components(separatedBy: "<img").count - 1, 8, "2 layers × 4 heads, for the short text alone")
        let attention = try BertCtl.run(["explain", "--local", tiny, "--attention", text] + windowed)
        XCTAssertNotEqual(attention.status, 0)
        XCTAssertTrue(attention.stderr.contains("integrated_gradients"), attention.stderr)
        let daemon = try BertCtl.run(["explain", text] + windowed)
        XCTAssertNotEqual(daemon.status, 0)
        XCTAssertTrue(daemon.stderr.contains("--local"), daemon.stderr)
    }

    func testReportsAreSelfContained() throws {
        let html = scratch.appendingPathComponent("r.html").path, svg = scratch.appendingPathComponent("r.svg").path
        let r = try BertCtl.run(["explain", "--local", tinyModelPath("tiny-bert"), "--html", html, "--svg", svg, "a <b> & c"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(page.contains(">&lt;</span>") && page.contains(">&amp;</span>"), "the text is escaped")
        XCTAssertEqual(page.components(separatedBy: "data:image/png;base64,").count - 1, 2 * 4, "one heatmap per layer and head (2 × 4)")
        for outside in ["http://", "https://", "<script", "<link"] { XCTAssertFalse(page.contains(outside), "the page must not load \(outside)") }
        let drawing = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(drawing.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(drawing.hasSuffix("</svg>\n"))
        XCTAssertEqual(drawing.components(separatedBy: "<image ").count - 1, 8)
    }

    func testBadArgumentsAreOneLineErrors() throws {
        let tiny = tinyModelPath("tiny-bert")
        for (arguments, mention) in [(["--label", "nope"], "unknown label"), (["--steps", "0"], "--steps"),
                                     (["--steps", "1025"], "--steps"), (["--rule", "simpson"], "simpson"),
                                     (["--attention", "--rollout"], "choose one")] {
            let r = try BertCtl.run(["explain", "--local", tiny] + arguments + ["text"])
            XCTAssertNotEqual(r.status, 0, "\(arguments)")
            XCTAssertTrue(r.stderr.contains(mention), "\(arguments): \(r.stderr)")
        }
        let miniLM = packageRoot.appendingPathComponent("models/all-MiniLM-L6-v2").path
        if FileManager.default.fileExists(atPath: miniLM) {
            let r = try BertCtl.run(["explain", "--local", miniLM, "x"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("no classification head"), r.stderr)
            // With candidate labels it explains the zero-shot classification.
            let z = try BertCtl.run(["explain", "--local", miniLM, "--labels", "sports,cooking", "the football team won the match"])
            XCTAssertEqual(z.status, 0, z.stderr)
            XCTAssertTrue(z.stdout.hasPrefix("sports (p="), z.stdout)
            XCTAssertTrue(z.stdout.contains("football["), z.stdout)
        }
    }

    func testEvalListsTheMostConfidentMistakesExplained() throws {
        let data = scratch.appendingPathComponent("dev.tsv")
        try "text\tlabel\none two\tneg\nthree four five\tneu\nsix\tpos\nseven eight\tneg\nnine ten eleven\tpos\n".write(to: data, atomically: true, encoding: .utf8)
        let html = scratch.appendingPathComponent("mistakes.html").path
        let r = try BertCtl.run(["eval", "--local", tinyModelPath("tiny-bert"), "--data", data.path, "--errors", "2", "--json", "--errors-html", html])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let errors = object["errors"] as! [[String: Any]]
        XCTAssertEqual(errors.count, 2)
        let probabilities = errors.map { $0["probability"] as! Double }
        XCTAssertGreaterThanOrEqual(probabilities[0], probabilities[1], "most confident first")
        for e in errors {
            XCTAssertNotEqual(e["true_label"] as? String, e["predicted_label"] as? String)
            let explanation = e["explanation"] as! [String: Any]
            XCTAssertEqual((explanation["attributions"] as! [[String: Any]])[0]["label"] as? String, e["predicted_label"] as? String)
        }
        XCTAssertTrue(try String(contentsOfFile: html, encoding: .utf8).contains("predicted"))

        // Read in windows, the mistakes are explained over every window, as they were classified.
        let long = scratch.appendingPathComponent("long.tsv")
        let rows = (0..<4).map { i in (0..<40).map { "w\(($0 + i) % 10)" }.joined(separator: " ") + "\t" + ["neg", "neu", "pos", "neg"][i] }
        try ("text\tlabel\n" + rows.joined(separator: "\n") + "\n").write(to: long, atomically: true, encoding: .utf8)
        let windowed = try BertCtl.run(["eval", "--local", tinyModelPath("tiny-bert"), "--data", long.path, "--errors", "1", "--json",
                                        "--window", "16", "--stride", "4"])
        XCTAssertEqual(windowed.status, 0, windowed.stderr)
        let mistake = ((try JSONSerialization.jsonObject(with: Data(windowed.stdout.utf8)) as! [String: Any])["errors"] as! [[String: Any]])[0]
        let explanation = mistake["explanation"] as! [String: Any]
        XCTAssertGreaterThan(explanation["windows"] as? Int ?? 0, 1, "\(explanation.keys)")
        XCTAssertEqual((explanation["tokens"] as! [Any]).count, 42, "40 words and [CLS] … [SEP]")
    }
}
