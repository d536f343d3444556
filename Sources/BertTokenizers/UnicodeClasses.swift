import Foundation

/// Character predicates exactly as Hugging Face tokenizers (Rust) evaluates them.
///
/// HF mixes two sources: Rust's `char` methods (`is_whitespace`, `to_lowercase`; current Unicode,
/// which Swift's `Unicode.Scalar.Properties` also follows) and the `unicode_categories` 0.1.1
/// crate (`is_other`, `is_punctuation`, `is_mark_nonspacing`), whose tables are Unicode 9.0.
/// A character assigned after 9.0 is in none of that crate's tables, so for those predicates we
/// require the character's `age` to be at most 9.0.
enum HFUnicode {
    /// `unicode_categories` tables were generated from Unicode 9.0.
    @inline(__always)
    static func inUnicode9(_ properties: Unicode.Scalar.Properties) -> Bool {
        guard let age = properties.age else { return false }
        return age.major < 9 || (age.major == 9 && age.minor == 0)
    }

    /// `is_control` of HF's BertNormalizer: `char::is_other()` of `unicode_categories`, which is
    /// Cc, Cf or Co (despite its doc comment, not Cn), with tab, newline and CR excluded.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        case 0xE000...0xF8FF, 0xF0000...0xFFFFD, 0x100000...0x10FFFD: return true
        default: break
        }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control: return true
        case .format, .privateUse: return inUnicode9(properties)
        default: return false
        }
    }

    /// Rust's `char::is_whitespace` (the White_Space property), plus tab, newline and CR (which
    /// are White_Space anyway).
    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// HF's BertPreTokenizer `is_bert_punc`: ASCII punctuation (33–47, 58–64, 91–96, 123–126)
    /// or a `unicode_categories` punctuation category (P*).
    static func isBertPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x80 {
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return inUnicode9(properties)
        default:
            return false
        }
    }

    /// `unicode_categories` `is_mark_nonspacing` (Mn), used by BertNormalizer's strip_accents.
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        return properties.generalCategory == .nonspacingMark && inUnicode9(properties)
    }

    /// HF's `is_chinese_char`: the CJK ideograph blocks, with HF's ranges verbatim (including
    /// 0x2B920 where the Unicode block starts at 0x2B820).
    @inline(__always)
    static func isChineseCharacter(_ v: UInt32) -> Bool {
        if v < 0x3400 { return false }
        switch v {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// Canonical decomposition (NFD) of one scalar. Only reached for non-ASCII text when accents
    /// are stripped, so the Foundation call is not on the ASCII hot path.
    static func canonicalDecomposition(_ scalar: Unicode.Scalar) -> String.UnicodeScalarView {
        String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
    }

    /// Classes of the GPT-2 pre-tokenization pattern (Oniguruma's `\p{L}`, `\p{N}`, `\s`).
    enum GPT2Class: UInt8 { case letter, number, whitespace, other }

    static func gpt2Class(_ scalar: Unicode.Scalar) -> GPT2Class {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}

/// Decodes one scalar from valid UTF-8 (Swift Strings are always valid UTF-8).
@inline(__always)
func decodeUTF8(_ bytes: UnsafePointer<UInt8>, at index: Int) -> (scalar: UInt32, length: Int) {
    let b0 = UInt32(bytes[index])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F), 2) }
    if b0 < 0xF0 {
        return ((b0 & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F), 3)
    }
    return ((b0 & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
            | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F), 4)
}

/// Appends the UTF-8 encoding of `scalar` to `buffer`.
@inline(__always)
func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
    if scalar < 0x80 {
        buffer.append(UInt8(scalar))
    } else if scalar < 0x800 {
        buffer.append(UInt8(0xC0 | scalar >> 6)); buffer.append(UInt8(0x80 | scalar & 0x3F))
    } else if scalar < 0x10000 {
        buffer.append(UInt8(0xE0 | scalar >> 12)); buffer.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
        buffer.append(UInt8(0x80 | scalar & 0x3F))
    } else {
        buffer.append(UInt8(0xF0 | scalar >> 18)); buffer.append(UInt8(0x80 | (scalar >> 12) & 0x3F))
        buffer.append(UInt8(0x80 | (scalar >> 6) & 0x3F)); buffer.append(UInt8(0x80 | scalar & 0x3F))
    }
}
