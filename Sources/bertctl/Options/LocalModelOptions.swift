import ArgumentParser
import Foundation

/// `--local DIR`: run in this process on a Hugging Face model directory instead of asking bertd.
struct LocalModelOptions: ParsableArguments {
    @Option(name: .customLong("local"), help: "Run in this process on a Hugging Face model directory (config.json, model.safetensors, tokenizer files) instead of asking bertd.")
    var directory: String?

    var url: URL { URL(fileURLWithPath: directory ?? ".") }
}

/// `--local DIR` for commands that only run in-process.
struct RequiredLocalModelOptions: ParsableArguments {
    @Option(name: .customLong("local"), help: "A Hugging Face model directory (config.json, model.safetensors, tokenizer files).")
    var directory: String

    var local: LocalModelOptions {
        var o = LocalModelOptions()
        o.directory = directory
        return o
    }
}
