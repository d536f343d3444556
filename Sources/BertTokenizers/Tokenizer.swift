import Foundation

/// A Hugging Face tokenizer (BERT WordPiece or RoBERTa byte-level BPE) loaded from a model
/// directory, reproducing the ids of HF's fast tokenizers exactly.
///
/// Immutable after loading: `encode` keeps its scratch space on the stack of the call, so one
/// instance can be shared by any number of threads.
public final class Tokenizer: @unchecked Sendable {
    private let pipeline: TokenizerDefinition.Pipeline
    private let addedTokens: AddedTokenMatcher
    let postProcessor: PostProcessor
    let vocabulary: TokenStrings
    public let padTokenId: Int32

    /// Model vocabulary plus added tokens (the size an embedding matrix must have at least).
    public var vocabularySize: Int { vocabulary.strings.count }

    /// Loads tokenizer.json if present, else vocab.txt (+ tokenizer_config.json) for WordPiece
    /// or vocab.json + merges.txt (+ tokenizer_config.json) for byte-level BPE.
    public convenience init(directory: URL) throws {
        self.init(definition: try TokenizerLoader.load(directory: directory))
    }

    init(definition: TokenizerDefinition) {
        pipeline = definition.pipeline
        addedTokens = AddedTokenMatcher(tokens: definition.addedTokens)
        postProcessor = definition.postProcessor
        vocabulary = TokenStrings(strings: definition.tokenStrings)
        padTokenId = definition.padTokenId
    }

    public func token(forId id: Int32) -> String? { vocabulary.token(forId: id) }

    /// The id of a token string (linear search: for setup code, not for encoding).
    public func id(forToken token: String) -> Int32? {
        vocabulary.strings.firstIndex(where: { $0 == token }).map(Int32.init)
    }

    /// Tokenizes `text` (and `pair`) and adds the special tokens.
    /// - Parameter maxLength: the most tokens of the result, special tokens included; 0 means no
    ///   truncation. A pair is truncated longest-first, as HF's `TruncationStrategy::LongestFirst`.
    public func encode(_ text: String, pair: String? = nil, maxLength: Int = 0) -> Encoding {
        var (first, second) = sequences(text, pair: pair)
        var truncated = 0
        if maxLength > 0 {
            let budget = max(0, maxLength - postProcessor.addedTokenCount(isPair: second != nil))
            truncated = Tokenizer.truncate(&first, &second, to: budget)
        }
        return postProcessor.apply(first, second, truncated: truncated, vocabulary: vocabulary)
    }

    /// The tokens of the text and of its pair, before post-processing.
    func sequences(_ text: String, pair: String?) -> (TokenSink, TokenSink?) {
        var first = TokenSink()
        encodeSequence(text, into: &first)
        guard let pair else { return (first, nil) }
        var second = TokenSink()
        encodeSequence(pair, into: &second)
        return (first, second)
    }

    private func encodeSequence(_ text: String, into sink: inout TokenSink) {
        var text = text
        text.withUTF8 { buffer in
            guard let bytes = buffer.baseAddress, buffer.count > 0 else { return }
            sink.ids.reserveCapacity(buffer.count / 4 + 4)
            sink.offsets.reserveCapacity(buffer.count / 4 + 4)
            switch pipeline {
            case .wordPiece(let preTokenizer, let wordPiece):
                let model = wordPiece.view
                var word = WordBuffer(capacity: 32)
                addedTokens.split(bytes, count: buffer.count, text: { start, end, scalarStart in
                    preTokenizer.encode(bytes, from: start, to: end, scalarStart: scalarStart,
                                        model: model, word: &word, into: &sink)
                }, token: { id, start, end in
                    sink.append(id, start, end)
                })
            case .byteLevelBPE(let bpe):
                var scratch = ByteLevel.Scratch()
                addedTokens.split(bytes, count: buffer.count, text: { start, end, scalarStart in
                    bpe.encode(bytes, from: start, to: end, scalarStart: scalarStart, scratch: &scratch, into: &sink)
                }, token: { id, start, end in
                    sink.append(id, start, end)
                })
            }
        }
    }

    /// HF's `truncate_encodings` with LongestFirst, stride 0, direction right: returns how many
    /// tokens were removed.
    static func truncate(_ first: inout TokenSink, _ second: inout TokenSink?, to maxLength: Int) -> Int {
        let total = first.ids.count + (second?.ids.count ?? 0)
        guard total > maxLength else { return 0 }
        guard var pair = second else {
            first.truncate(to: maxLength)
            return total - maxLength
        }
        // With n1 the shorter length: keep it whole if the longer can fill the rest, else split
        // the budget in halves (the odd token going to the longer one).
        var n1 = first.ids.count, n2 = pair.ids.count
        let swap = n1 > n2
        if swap { Swift.swap(&n1, &n2) }
        n2 = n1 > maxLength ? n1 : max(n1, maxLength - n1)
        if n1 + n2 > maxLength {
            n1 = maxLength / 2
            n2 = n1 + maxLength % 2
        }
        if swap { Swift.swap(&n1, &n2) }
        first.truncate(to: n1)
        pair.truncate(to: n2)
        second = pair
        return total - first.ids.count - pair.ids.count
    }
}
