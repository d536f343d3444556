import ArgumentParser
import Foundation

/// `--local DIR`: run in this process on a Hugging Face model directory.
struct LocalModelOptions: ParsableArguments {
    @Option(name: .customLong("local"), help: "A Hugging Face model directory (config.json, model.safetensors, tokenizer files).")
    var directory: String

    var url: URL { URL(fileURLWithPath: directory) }
}
