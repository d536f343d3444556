/// The three pieces of Python's `str` that scikit-learn's text analyzers rest on, per Unicode
/// scalar (Python's strings are sequences of code points, not of grapheme clusters as Swift's
/// `Character`s are: every length, slice and n-gram here counts scalars).
///
/// - `\w` of `re` on a str pattern: `str.isalnum()` or "_", i.e. the categories L* and N* (CPython
///   `_PyUnicode_IsAlpha` / `_PyUnicode_IsNumeric`; in Python 3.11 every numeric code point is
///   in N* or L*). Combining marks (Mn, Mc) are *not* word characters: a decomposed "é" (e +
///   U+0301) ends a token, exactly as in Python.
/// - `str.split()`'s whitespace: `str.isspace()`, which is Unicode White_Space plus U+001C…U+001F
///   (bidirectional class B or S), as CPython's `_PyUnicode_IsWhitespace`.
/// - `str.lower()`: the full lowercase mapping of each scalar (SpecialCasing's unconditional
///   entries, so "İ" becomes "i̇", two scalars), and Final_Sigma for "Σ" (CPython
///   `handle_capital_sigma` in Objects/unicodeobject.c).
enum PythonText {
    /// `re`'s `\w` for a str pattern.
    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 {
            let v = s.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    /// `str.isspace()`: what `str.split()` with no argument splits on.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) || (v >= 0x1C && v <= 0x1F) }
        return s.properties.isWhitespace
    }

    /// `text.lower()` as Python computes it, as scalars.
    static func lowercased(_ text: String) -> [Unicode.Scalar] {
        let scalars = Array(text.unicodeScalars)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        for (i, s) in scalars.enumerated() {
            let v = s.value
            if v < 0x80 {
                out.append(v >= 0x41 && v <= 0x5A ? Unicode.Scalar(v + 32)! : s)
            } else if v == 0x3A3 {
                out.append(isFinalSigma(scalars, at: i) ? "\u{3C2}" : "\u{3C3}")
            } else if s.properties.changesWhenLowercased {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return out
    }

    /// Final_Sigma (Unicode 3.13, table 3-17): \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, scalars[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, scalars[j].properties.isCased else { return false }
        j = i + 1
        while j < scalars.count, scalars[j].properties.isCaseIgnorable { j += 1 }
        return j == scalars.count || !scalars[j].properties.isCased
    }
}
