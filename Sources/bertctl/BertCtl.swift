import ArgumentParser
import BertProtocol

/// `bertctl`: the command-line companion of bertd. Thin: every subcommand parses its arguments
/// and calls a library; nothing here knows numerics or tokenization.
@main
struct BertCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bertctl",
        abstract: "Classify, embed, tokenize and benchmark with BERT-family models.",
        discussion: """
        Without --local, commands ask bertd (see --endpoint); with --local DIR the work runs in \
        this process on the Hugging Face model directory DIR. \
        Examples:
          bertctl classify --local models/all-MiniLM-L6-v2 "a great movie"
          echo "hello world" | bertctl embed --local models/all-MiniLM-L6-v2
          bertctl tokenize --local models/all-MiniLM-L6-v2 --max-length 16 "Hello, world!"
          bertctl bench --local models/all-MiniLM-L6-v2 --texts data/sst2/dev.tsv
        """,
        version: bertdVersion,
        subcommands: [
            ClassifyCommand.self,
            ExplainCommand.self,
            CompareCommand.self,
            EmbedCommand.self,
            TokenizeCommand.self,
            BenchCommand.self,
            ModelsCommand.self,
            LoadCommand.self,
            UnloadCommand.self,
            StatusCommand.self,
            PingCommand.self,
            WatchCommand.self,
            LoadtestCommand.self,
            TrainCommand.self,
            SweepCommand.self,
            JobsCommand.self,
            CancelCommand.self,
            EvalCommand.self,
            QuantizeCommand.self,
            CompletionsCommand.self,
        ]
    )
}
