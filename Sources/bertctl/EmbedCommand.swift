import ArgumentParser
import BertPipeline

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Sentence embeddings: one JSON array per text and line (mean-pooled, L2-normalised).",
        discussion: """
        Example:
          bertctl embed --local models/all-MiniLM-L6-v2 "first sentence" "second sentence"
        """)

    @OptionGroup var model: LocalModelOptions
    @OptionGroup var compute: ComputeOptions

    @Flag(help: "Refuse texts longer than the model's maximum instead of truncating them.")
    var noTruncate = false

    @Argument(help: "Texts to embed (default: one per line on standard input).")
    var texts: [String] = []

    func run() throws {
        compute.apply()
        let textModel = try model.load()
        let workspace = textModel.makeWorkspace()
        let all = InputTexts.read(arguments: texts)
        for start in stride(from: 0, to: all.count, by: compute.batchSize) {
            let chunk = all[start..<min(start + compute.batchSize, all.count)]
            let inputs = try chunk.map { try textModel.prepare($0, truncate: !noTruncate) }
            for vector in try textModel.embed(inputs, workspace: workspace) {
                print(JSON.floats(vector).text)
            }
        }
    }
}
