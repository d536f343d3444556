/// The WordPiece model: greedy longest-match-first with a continuation prefix, as HF's
/// https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/models/wordpiece/mod.rs
final class WordPiece: Sendable {
    /// Every vocabulary entry, for the first piece of a word.
    private let wordStarts: ByteStringTable
    /// Entries that begin with the continuation prefix, keyed *without* it, so a continuation
    /// lookup needs no "##" + substring concatenation.
    private let continuations: ByteStringTable
    /// The tables' memory, for the hot loop: no reference counting on objects shared by threads.
    private let wordStartsView: ByteStringTable.View
    private let continuationsView: ByteStringTable.View
    let unknownId: Int32
    /// Words of more normalized characters than this become the unknown token.
    let maxInputCharsPerWord: Int

    init(vocabulary: [(String, Int32)], unknownToken: String, continuingSubwordPrefix: String,
         maxInputCharsPerWord: Int) throws {
        let prefix = Array(continuingSubwordPrefix.utf8)
        wordStarts = ByteStringTable(vocabulary.lazy.map { (Array($0.0.utf8), $0.1) })
        continuations = ByteStringTable(vocabulary.lazy.compactMap { entry -> ([UInt8], Int32)? in
            let bytes = Array(entry.0.utf8)
            guard !prefix.isEmpty, bytes.count > prefix.count, bytes.starts(with: prefix) else { return nil }
            return (Array(bytes[prefix.count...]), entry.1)
        })
        wordStartsView = wordStarts.view
        continuationsView = continuations.view
        let unknown = wordStarts.lookup(unknownToken)
        guard unknown >= 0 else {
            throw TokenizerError.invalidFile("vocabulary", reason: "the unknown token \"\(unknownToken)\" is not in the WordPiece vocabulary")
        }
        unknownId = unknown
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// The model's memory without the owning object: the encoding loop uses this, so threads
    /// sharing a tokenizer never touch a shared reference count. Valid while `self` is alive.
    var view: View {
        View(wordStarts: wordStartsView, continuations: continuationsView, unknownId: unknownId,
             maxInputCharsPerWord: maxInputCharsPerWord)
    }

    struct View: @unchecked Sendable {
        let wordStarts: ByteStringTable.View
        let continuations: ByteStringTable.View
        let unknownId: Int32
        let maxInputCharsPerWord: Int

        /// Tokenizes the word held in `word`, appending ids and original offsets to `sink`.
        @inline(__always)
        func tokenize(_ word: WordBuffer, into sink: inout TokenSink) {
            let charCount = word.charCount
            if charCount == 0 { return }
            let wordStart = Int(word.originalStart[0])
            let wordEnd = Int(word.originalEnd[charCount - 1])
            if charCount > maxInputCharsPerWord {
                sink.append(unknownId, wordStart, wordEnd)
                return
            }
            let firstToken = sink.ids.count
            word.bytes.withUnsafeBufferPointer { bytesBuffer in
                word.charByteStart.withUnsafeBufferPointer { charStart in
                    let bytes = bytesBuffer.baseAddress!
                    var start = 0
                    while start < charCount {
                        let table = start == 0 ? wordStarts : continuations
                        let startByte = Int(charStart[start])
                        var end = charCount
                        // No key is longer than the table's longest, so skip those lengths outright.
                        while end > start && Int(charStart[end]) - startByte > table.maxKeyLength { end -= 1 }
                        var id: Int32 = -1
                        while end > start {
                            id = table.lookup(bytes + startByte, Int(charStart[end]) - startByte)
                            if id >= 0 { break }
                            end -= 1
                        }
                        if id < 0 {
                            // No piece matches here: the whole word is unknown (HF's `is_bad`).
                            sink.removeLast(from: firstToken)
                            sink.append(unknownId, wordStart, wordEnd)
                            return
                        }
                        sink.append(id, Int(word.originalStart[start]), Int(word.originalEnd[end - 1]))
                        start = end
                    }
                }
            }
        }
    }
}

/// One pre-tokenized word: its normalized UTF-8 and, per normalized character, where it
/// starts in `bytes` and which original scalars it came from (its offsets). Reused across words.
struct WordBuffer {
    var bytes: [UInt8] = []
    /// Byte start of each character, plus a final entry equal to `bytes.count` once sealed.
    var charByteStart: [Int32] = []
    var originalStart: [Int32] = []
    var originalEnd: [Int32] = []

    var charCount: Int { originalStart.count }
    var isEmpty: Bool { originalStart.isEmpty }

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
        charByteStart.reserveCapacity(capacity + 1)
        originalStart.reserveCapacity(capacity)
        originalEnd.reserveCapacity(capacity)
    }

    @inline(__always)
    mutating func appendASCII(_ byte: UInt8, original: Int) {
        charByteStart.append(Int32(bytes.count))
        bytes.append(byte)
        originalStart.append(Int32(original))
        originalEnd.append(Int32(original + 1))
    }

    @inline(__always)
    mutating func append(scalar: UInt32, original: Int) {
        charByteStart.append(Int32(bytes.count))
        appendUTF8(scalar, to: &bytes)
        originalStart.append(Int32(original))
        originalEnd.append(Int32(original + 1))
    }

    /// Adds the end sentinel to `charByteStart` before the word is handed to the model.
    @inline(__always)
    mutating func seal() { charByteStart.append(Int32(bytes.count)) }

    @inline(__always)
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        charByteStart.removeAll(keepingCapacity: true)
        originalStart.removeAll(keepingCapacity: true)
        originalEnd.removeAll(keepingCapacity: true)
    }
}
