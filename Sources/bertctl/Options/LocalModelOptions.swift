import ArgumentParser
import BertCore
import Foundation

/// `--local DIR`: run in this process on a Hugging Face model directory instead of asking bertd.
struct LocalModelOptions: ParsableArguments {
    @Option(name: .customLong("local"), help: "Run in this process on a Hugging Face model directory (config.json, model.safetensors, tokenizer files) instead of asking bertd.")
    var directory: String?

    @Option(help: "With --local: the encoder's arithmetic, fp32 or int8 (in-process, no quality gate is checked: see bertctl quantize).")
    var precision: Precision = .fp32

    var url: URL { URL(fileURLWithPath: directory ?? ".") }
}

extension Precision: ExpressibleByArgument {}

/// `--local DIR` for commands that only run in-process.
struct RequiredLocalModelOptions: ParsableArguments {
    @Option(name: .customLong("local"), help: "A Hugging Face model directory (config.json, model.safetensors, tokenizer files).")
    var directory: String

    var local: LocalModelOptions {
        var o = LocalModelOptions()
        o.directory = directory
        o.precision = .fp32  // every option of a group made by hand must be set
        return o
    }
}
