import Foundation

/// The pre-tokenizer stage: tokenizer.json `"pre_tokenizer"`.
enum PreTokenizerType: String {
    /// Split on whitespace (removed) and punctuation (isolated): HF's BertPreTokenizer.
    case bert = "BertPreTokenizer"
    /// GPT-2's regex split, then bytes mapped to printable characters: HF's ByteLevel.
    case byteLevel = "ByteLevel"

    enum Config {
        case bert
        case byteLevel(addPrefixSpace: Bool)
    }

    static func make(config: Any?) throws -> Config {
        guard let config = config as? [String: Any] else {
            throw TokenizerError.unsupported("no pre_tokenizer (supported: BertPreTokenizer, ByteLevel)")
        }
        let typeName = config["type"] as? String ?? "<missing>"
        guard let type = PreTokenizerType(rawValue: typeName) else {
            throw TokenizerError.unsupported("pre_tokenizer type \"\(typeName)\" (supported: BertPreTokenizer, ByteLevel)")
        }
        switch type {
        case .bert:
            return .bert
        case .byteLevel:
            if let useRegex = config["use_regex"] as? Bool, !useRegex {
                throw TokenizerError.unsupported("ByteLevel pre_tokenizer with use_regex false")
            }
            return .byteLevel(addPrefixSpace: config["add_prefix_space"] as? Bool ?? true)
        }
    }
}

/// BertNormalizer + BertPreTokenizer fused into one pass over the UTF-8 of a text, handing each
/// word to WordPiece as soon as it ends. ASCII goes through two 128-entry tables; other
/// characters take the general (slower, rare) path.
/// HF: https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/pre_tokenizers/bert.rs
struct BertPreTokenizer: Sendable {
    private enum Action: UInt8 { case drop, split, isolate, append }

    let normalizer: BertNormalizer
    private let asciiAction: [Action]
    private let asciiByte: [UInt8]

    init(normalizer: BertNormalizer) {
        self.normalizer = normalizer
        var actions = [Action](repeating: .drop, count: 128)
        var bytes = [UInt8](repeating: 0, count: 128)
        for byte in 0..<128 {
            guard let normalized = normalizer.normalizeASCII(UInt8(byte)) else { continue }
            bytes[byte] = normalized
            actions[byte] = BertPreTokenizer.isWhitespace(UInt32(normalized)) ? .split
                : BertPreTokenizer.isPunctuation(UInt32(normalized)) ? .isolate : .append
        }
        asciiAction = actions
        asciiByte = bytes
    }

    @inline(__always)
    private static func isWhitespace(_ scalar: UInt32) -> Bool {
        scalar < 0x80 ? (scalar == 0x20 || (scalar >= 0x09 && scalar <= 0x0D))
            : HFUnicode.isWhitespace(Unicode.Scalar(scalar)!)
    }

    @inline(__always)
    private static func isPunctuation(_ scalar: UInt32) -> Bool {
        HFUnicode.isBertPunctuation(Unicode.Scalar(scalar)!)
    }

    /// Normalizes and splits `bytes[start..<end]` (whose first scalar is scalar number
    /// `scalarStart` of the text) and tokenizes every word with `model`.
    func encode(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, scalarStart: Int,
                model: WordPiece.View, word: inout WordBuffer, into sink: inout TokenSink) {
        var i = start
        var scalarIndex = scalarStart
        var normalized = BertNormalizer.Result()
        word.reset()

        @inline(__always) func flush(_ word: inout WordBuffer, _ sink: inout TokenSink) {
            if word.isEmpty { return }
            word.seal()
            model.tokenize(word, into: &sink)
            word.reset()
        }

        while i < end {
            let byte = bytes[i]
            if byte < 0x80 {
                switch asciiAction[Int(byte)] {
                case .append: word.appendASCII(asciiByte[Int(byte)], original: scalarIndex)
                case .split: flush(&word, &sink)
                case .isolate:
                    flush(&word, &sink)
                    word.appendASCII(asciiByte[Int(byte)], original: scalarIndex)
                    flush(&word, &sink)
                case .drop: break
                }
                i += 1
                scalarIndex += 1
                continue
            }
            let (value, length) = decodeUTF8(bytes, at: i)
            normalizer.normalize(Unicode.Scalar(value)!, into: &normalized)
            // A CJK ideograph is surrounded by spaces by the normalizer: a word of its own.
            if normalized.isChinese { flush(&word, &sink) }
            for scalar in normalized.scalars {
                if BertPreTokenizer.isWhitespace(scalar) {
                    flush(&word, &sink)
                } else if BertPreTokenizer.isPunctuation(scalar) {
                    flush(&word, &sink)
                    word.append(scalar: scalar, original: scalarIndex)
                    flush(&word, &sink)
                } else {
                    word.append(scalar: scalar, original: scalarIndex)
                }
            }
            if normalized.isChinese { flush(&word, &sink) }
            i += length
            scalarIndex += 1
        }
        flush(&word, &sink)
    }
}
