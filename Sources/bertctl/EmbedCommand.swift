import ArgumentParser
import BertPipeline
import BertProtocol

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Sentence embeddings: one JSON array per text and line (mean-pooled, L2-normalised).",
        discussion: """
        Examples:
          bertctl embed "first sentence" "second sentence"
          bertctl embed --local models/all-MiniLM-L6-v2 < sentences.txt
        """)

    @OptionGroup var local: LocalModelOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var compute: ComputeOptions

    @Option(help: "The daemon's model to use (default: its default model).")
    var model: String?

    @Flag(help: "Refuse texts longer than the model's maximum instead of truncating them.")
    var noTruncate = false

    @Argument(help: "Texts to embed (default: one per line on standard input).")
    var texts: [String] = []

    func run() throws {
        let all = InputTexts.read(arguments: texts)
        if local.directory == nil {
            for start in stride(from: 0, to: all.count, by: 256) {
                let request = DaemonOptions.newRequest(.embed(Inference(
                    texts: Array(all[start..<min(start + 256, all.count)]), model: model, truncate: !noTruncate)))
                let result = try daemon.call(request)
                for vector in result["embeddings"] as? [[Double]] ?? [] { print(JSON.floats(vector.map(Float.init)).text) }
            }
            return
        }
        compute.apply()
        let textModel = try local.load()
        let workspace = textModel.makeWorkspace()
        for start in stride(from: 0, to: all.count, by: compute.batchSize) {
            let chunk = all[start..<min(start + compute.batchSize, all.count)]
            let inputs = try chunk.map { try textModel.prepare($0, truncate: !noTruncate) }
            for vector in try textModel.embed(inputs, workspace: workspace) {
                print(JSON.floats(vector).text)
            }
        }
    }
}
