import ArgumentParser
import BertBaselines
import BertCore
import BertPipeline
import BertProtocol
import BertTraining
import Foundation

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify texts: the label and the probability of every label.",
        discussion: """
        Asks bertd, or with --local DIR runs in this process. A model with a classification head \
        uses it. A sentence-embedding model (no head, such as all-MiniLM-L6-v2) classifies \
        zero-shot against --labels: cosine similarity of the text's embedding to each label's, \
        times 20, then softmax. \
        Examples:
          bertctl classify --labels "sports,politics,music" "the match went to penalties"
          cat texts.txt | bertctl classify --model sentiment --json
          bertctl classify --local models/all-MiniLM-L6-v2 --labels "sports,cooking" "whisk the eggs"
        """)

    @OptionGroup var local: LocalModelOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var windows: WindowOptions

    @Option(help: "The daemon's model to use (default: its default model).")
    var model: String?

    @Option(help: "Comma-separated labels for zero-shot classification with an embedding model.")
    var labels: String?

    @Option(help: "Show the k most probable labels (default: all).")
    var topK: Int?

    @Option(help: "Milliseconds the daemon may take before dropping the work (deadline_exceeded).")
    var deadline: Int?

    @Flag(help: "Refuse texts longer than the model's maximum instead of truncating them.")
    var noTruncate = false

    @Flag(help: "One JSON object per line: label, score, scores, logits, truncated.")
    var json = false

    @Argument(help: "Texts to classify (default: one per line on standard input).")
    var texts: [String] = []

    func validate() throws {
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    private var labelList: [String]? {
        labels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    func run() throws {
        let all = InputTexts.read(arguments: texts)
        if local.directory != nil { try runLocally(all) } else { try runOnDaemon(all) }
    }

    private func runLocally(_ all: [String]) throws {
        compute.apply()
        if let directory = local.directory, LinearBaseline.isBaselineDirectory(URL(fileURLWithPath: directory)) {
            return try classifyWithBaseline(all, directory: URL(fileURLWithPath: directory))
        }
        let textModel = try local.load()
        let workspace = textModel.makeWorkspace()
        let zeroShot: ZeroShotLabels?
        if let names = labelList {
            zeroShot = try ZeroShotLabels(labels: names, model: textModel, workspace: workspace)
        } else if textModel.canClassify {
            zeroShot = nil
        } else {
            throw CommandFailure(description: "\(local.directory!) has no classification head; give --labels for zero-shot classification, or use `bertctl embed`")
        }
        let policy = try windows.policy(model: textModel.longDocuments, maxSequenceLength: textModel.maxSequenceLength)
        for start in stride(from: 0, to: all.count, by: compute.batchSize) {
            let chunk = Array(all[start..<min(start + compute.batchSize, all.count)])
            let results: [Classification]
            if let policy {
                let documents = try chunk.map { try textModel.prepareWindows($0, policy: policy) }
                if let zeroShot {
                    let vectors = try textModel.embed(documents: documents, aggregation: policy.aggregation, workspace: workspace)
                    results = zip(documents, vectors).map { document, vector in
                        var c = zeroShot.classify(embedding: vector)
                        c.windows = document.count
                        return c
                    }
                } else {
                    results = try textModel.classify(documents: documents, aggregation: policy.aggregation, workspace: workspace)
                }
            } else {
                let inputs = try chunk.map { try textModel.prepare($0, truncate: !noTruncate) }
                results = try zeroShot.map { try textModel.classify(inputs, zeroShot: $0, workspace: workspace) }
                    ?? textModel.classify(inputs, workspace: workspace)
            }
            for (text, r) in zip(chunk, results) {
                let shown = topK.map { r.top($0) } ?? r.scores  // label-id order unless --top-k
                print(render(Row(label: r.label, score: r.score, scores: shown.map { ($0.label, $0.probability) },
                                 logits: r.logits, truncated: r.truncatedTokens > 0, selected: r.selected, value: r.value,
                                 windows: policy == nil ? nil : r.windows), text: text))
            }
        }
    }

    /// A linear baseline directory: its logits, scored as its task says (no zero-shot).
    private func classifyWithBaseline(_ all: [String], directory: URL) throws {
        if labelList != nil { throw CommandFailure(description: "\(directory.path) is a linear baseline: it has no zero-shot --labels") }
        let baseline: LinearBaseline
        do { baseline = try LinearBaseline(directory: directory) } catch let e as TrainingDataError {
            throw CommandFailure(description: "\(e.message) [\(e.code.rawValue)]")
        }
        for start in stride(from: 0, to: all.count, by: compute.batchSize) {
            let chunk = Array(all[start..<min(start + compute.batchSize, all.count)])
            for (text, logits) in zip(chunk, baseline.logits(chunk)) {
                let r = Classification(labels: baseline.labels, logits: logits, scoring: baseline.scoring, truncatedTokens: 0)
                let shown = topK.map { r.top($0) } ?? r.scores
                print(render(Row(label: r.label, score: r.score, scores: shown.map { ($0.label, $0.probability) },
                                 logits: r.logits, truncated: false, selected: r.selected), text: text))
            }
        }
    }

    private func runOnDaemon(_ all: [String]) throws {
        for start in stride(from: 0, to: all.count, by: 256) {
            let chunk = Array(all[start..<min(start + 256, all.count)])
            let request = DaemonOptions.newRequest(.classify(Inference(
                texts: chunk, model: model, labels: labelList, topK: topK, deadlineMs: deadline, truncate: !noTruncate)))
            let result = try daemon.call(request)
            for (text, r) in zip(chunk, result["results"] as? [[String: Any]] ?? []) {
                let scores = (r["scores"] as? [String: Any] ?? [:]).map { ($0.key, Float(($0.value as? Double) ?? 0)) }
                    .sorted { $0.1 > $1.1 }
                print(render(Row(label: r["label"] as? String ?? "?", score: Float(r["score"] as? Double ?? 0), scores: scores,
                                 logits: (r["logits"] as? [Double] ?? []).map(Float.init), truncated: r["truncated"] as? Bool ?? false,
                                 selected: r["labels"] as? [String], value: (r["value"] as? Double).map(Float.init), windows: r["windows"] as? Int),
                             text: text))
            }
        }
    }

    private struct Row {
        let label: String
        let score: Float
        let scores: [(String, Float)]
        let logits: [Float]
        let truncated: Bool
        /// Multi-label: the labels at or above their thresholds; regression: the value.
        var selected: [String]? = nil
        var value: Float? = nil
        /// Long documents: the windows the text was read in (nil: the model truncates).
        var windows: Int? = nil
    }

    private func render(_ r: Row, text: String) -> String {
        if json {
            var fields: [(String, JSON)] = [
                ("label", .string(r.label)),
                ("score", .float(r.score)),
                ("scores", .object(r.scores.map { ($0.0, JSON.float($0.1)) })),
                ("logits", .floats(r.logits)),
                ("truncated", .bool(r.truncated)),
            ]
            if let selected = r.selected { fields.append(("labels", .array(selected.map { .string($0) }))) }
            if let value = r.value { fields.append(("value", .float(value))) }
            if let windows = r.windows { fields.append(("windows", .int(windows))) }
            return JSON.object(fields).text
        }
        let scores = r.scores.map { "\($0.0)=\(String(format: "%.4f", $0.1))" }.joined(separator: " ")
        // The first column is what the model says: the value, the selected labels, or the label.
        let answer = r.value.map { String(format: "%.4f", $0) } ?? r.selected.map { $0.isEmpty ? "-" : $0.joined(separator: "|") }
            ?? "\(r.label)\t\(String(format: "%.4f", r.score))"
        let windows = r.windows.map { "\t\($0) window\($0 == 1 ? "" : "s")" } ?? ""
        return "\(answer)\t\(scores)\(windows)\t\(text)"
    }
}
