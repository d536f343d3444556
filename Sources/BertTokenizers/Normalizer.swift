import Foundation

/// The normalizer stage: tokenizer.json `"normalizer"`.
///
/// Only HF's BertNormalizer is supported
/// (https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/normalizers/bert.rs).
/// Every step of it maps one character to zero or more characters, each aligned to the
/// original character, so it runs per scalar inside the pre-tokenizer's single pass
/// (`BertPreTokenizer.encode`) instead of building a normalized string.
enum NormalizerType: String {
    case bert = "BertNormalizer"

    /// The normalizer described by a tokenizer.json `"normalizer"` value (`nil` or JSON null:
    /// none, which is the identity).
    static func make(config: Any?) throws -> BertNormalizer {
        guard let config = config as? [String: Any] else {
            if config == nil || config is NSNull { return .identity }
            throw TokenizerError.invalidFile("tokenizer.json", reason: "\"normalizer\" is not an object")
        }
        let typeName = config["type"] as? String ?? "<missing>"
        guard let type = NormalizerType(rawValue: typeName) else {
            throw TokenizerError.unsupported("normalizer type \"\(typeName)\" (supported: BertNormalizer or none)")
        }
        switch type {
        case .bert:
            let lowercase = config["lowercase"] as? Bool ?? true
            return BertNormalizer(
                cleanText: config["clean_text"] as? Bool ?? true,
                handleChineseChars: config["handle_chinese_chars"] as? Bool ?? true,
                // `strip_accents: null` follows `lowercase`, as in HF.
                stripAccents: config["strip_accents"] as? Bool ?? lowercase,
                lowercase: lowercase)
        }
    }
}

struct BertNormalizer: Sendable {
    let cleanText: Bool
    let handleChineseChars: Bool
    let stripAccents: Bool
    let lowercase: Bool

    static let identity = BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)

    /// What happens to a non-ASCII character: dropped, or its normalized scalars, and whether it
    /// is a CJK ideograph (which HF surrounds with spaces, making it a word of its own).
    struct Result {
        var isChinese = false
        var scalars: [UInt32] = []
    }

    /// Normalizes one ASCII byte: nil when clean_text drops it (controls except \t \n \r),
    /// else the byte (whitespace becomes ' ', letters lowercased when asked). Strip-accents
    /// and the CJK rule never affect ASCII.
    @inline(__always)
    func normalizeASCII(_ byte: UInt8) -> UInt8? {
        if cleanText {
            if byte == 0x09 || byte == 0x0A || byte == 0x0D { return 0x20 }
            if byte < 0x20 || byte == 0x7F { return nil }
        }
        if lowercase && byte >= 0x41 && byte <= 0x5A { return byte | 0x20 }
        return byte
    }

    /// Normalizes one non-ASCII character in HF's order: clean text, CJK spacing, strip accents
    /// (NFD, then drop nonspacing marks), lowercase. `result.scalars` is empty if it vanishes.
    func normalize(_ scalar: Unicode.Scalar, into result: inout Result) {
        result.scalars.removeAll(keepingCapacity: true)
        result.isChinese = false
        var scalar = scalar
        if cleanText {
            if scalar.value == 0xFFFD || HFUnicode.isControl(scalar) { return }
            if HFUnicode.isWhitespace(scalar) { scalar = " " }
        }
        if handleChineseChars && HFUnicode.isChineseCharacter(scalar.value) { result.isChinese = true }
        if stripAccents {
            for decomposed in HFUnicode.canonicalDecomposition(scalar) where !HFUnicode.isNonspacingMark(decomposed) {
                appendLowercased(decomposed, to: &result.scalars)
            }
        } else {
            appendLowercased(scalar, to: &result.scalars)
        }
    }

    @inline(__always)
    private func appendLowercased(_ scalar: Unicode.Scalar, to scalars: inout [UInt32]) {
        guard lowercase else { scalars.append(scalar.value); return }
        if scalar.value < 0x80 {
            scalars.append(scalar.value >= 0x41 && scalar.value <= 0x5A ? scalar.value | 0x20 : scalar.value)
            return
        }
        // Rust's char::to_lowercase: the full (possibly multi-character) lowercase mapping.
        for lowered in scalar.properties.lowercaseMapping.unicodeScalars { scalars.append(lowered.value) }
    }
}
