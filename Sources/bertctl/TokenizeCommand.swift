import BertProtocol
import ArgumentParser
import BertTokenizers
import Foundation

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize texts: one JSON object per text and line (input_ids, tokens, offsets).",
        discussion: """
        Ids include the special tokens ([CLS] … [SEP], or <s> … </s>). Offsets are [start, end] in Unicode scalars of the text, as Python's offset_mapping; special tokens get [0, 0].

        Examples:
          bertctl tokenize --local models/all-MiniLM-L6-v2 "Hello, world!"
          cut -f1 ../shared/data/sst2/dev.tsv | bertctl tokenize --local models/all-MiniLM-L6-v2 --max-length 16
        """)

    @OptionGroup var required: RequiredLocalModelOptions
    var model: LocalModelOptions { required.local }

    @Option(help: "Truncate to at most this many tokens, special tokens included (0: no truncation).")
    var maxLength = 0

    @Argument(help: "Texts to tokenize (default: one per line on standard input).")
    var texts: [String] = []

    func validate() throws {
        if maxLength < 0 { throw ValidationError("--max-length must be 0 (no truncation) or positive") }
    }

    func run() throws {
        let tokenizer: Tokenizer
        do {
            tokenizer = try Tokenizer(directory: model.url)
        } catch let error as TokenizerError {
            throw CommandFailure(description: "cannot load the tokenizer of \(required.directory): \(error.description) [\(error.code)]")
        }
        for text in InputTexts.read(arguments: texts) {
            let encoding = tokenizer.encode(text, maxLength: maxLength)
            print(JSON.object([
                ("input_ids", .array(encoding.ids.map { .int(Int($0)) })),
                ("tokens", .array(encoding.tokens.map { .string($0) })),
                ("offsets", .array(encoding.offsets.map { .array([.int($0.lowerBound), .int($0.upperBound)]) })),
            ]).text)
        }
    }
}
