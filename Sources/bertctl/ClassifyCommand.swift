import ArgumentParser
import BertCore
import BertPipeline
import Foundation

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify texts: the label and the probability of every label.",
        discussion: """
        A model with a classification head uses it. A sentence-embedding model (no head, such as
        all-MiniLM-L6-v2) classifies zero-shot against --labels: cosine similarity of the text's
        embedding to each label's, times 20, then softmax.
        Examples:
          bertctl classify --local models/all-MiniLM-L6-v2 --labels "sports,politics,music" "the match went to penalties"
          cat texts.txt | bertctl classify --local my-finetuned-model --json
        """)

    @OptionGroup var model: LocalModelOptions
    @OptionGroup var compute: ComputeOptions

    @Option(help: "Comma-separated labels for zero-shot classification with an embedding model.")
    var labels: String?

    @Option(help: "Show the k most probable labels (default: all).")
    var topK: Int?

    @Flag(help: "Refuse texts longer than the model's maximum instead of truncating them.")
    var noTruncate = false

    @Flag(help: "One JSON object per line: label, score, scores, logits, truncated_tokens.")
    var json = false

    @Argument(help: "Texts to classify (default: one per line on standard input).")
    var texts: [String] = []

    func validate() throws {
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    func run() throws {
        compute.apply()
        let textModel = try model.load()
        let workspace = textModel.makeWorkspace()
        let zeroShot: ZeroShotLabels?
        if let labels {
            let names = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            zeroShot = try ZeroShotLabels(labels: names, model: textModel, workspace: workspace)
        } else if textModel.canClassify {
            zeroShot = nil
        } else {
            throw CommandFailure(description: "\(model.directory) has no classification head; give --labels for zero-shot classification, or use `bertctl embed`")
        }
        let all = InputTexts.read(arguments: texts)
        for start in stride(from: 0, to: all.count, by: compute.batchSize) {
            let chunk = Array(all[start..<min(start + compute.batchSize, all.count)])
            let inputs = try chunk.map { try textModel.prepare($0, truncate: !noTruncate) }
            let results = try zeroShot.map { try textModel.classify(inputs, zeroShot: $0, workspace: workspace) }
                ?? textModel.classify(inputs, workspace: workspace)
            for (text, result) in zip(chunk, results) { print(render(result, text: text)) }
        }
    }

    private func render(_ r: Classification, text: String) -> String {
        let shown = topK.map { r.top($0) } ?? r.scores  // label-id order unless --top-k
        if json {
            return JSON.object([
                ("label", .string(r.label)),
                ("score", .float(r.score)),
                ("scores", .object(shown.map { ($0.label, JSON.float($0.probability)) })),
                ("logits", .floats(r.logits)),
                ("truncated_tokens", .int(r.truncatedTokens)),
            ]).text
        }
        let scores = shown.map { "\($0.label)=\(String(format: "%.4f", $0.probability))" }.joined(separator: " ")
        return "\(r.label)\t\(String(format: "%.4f", r.score))\t\(scores)\t\(text)"
    }
}
