import Foundation

/// An explanation on a terminal: the text with each word's background shaded by its value
/// (24-bit colour), or, when stdout is not a terminal, `word[+0.42]` after every word.
public struct TerminalView {
    public var colour: Bool

    public init(colour: Bool) { self.colour = colour }

    /// The text with its words marked by `values` (one per word).
    public func highlight(_ e: ExplainedText, values: [Float], texts: [String]) -> String {
        let scale = values.map(abs).max() ?? 0
        var out = ""
        for segment in e.segments(texts: texts) {
            switch segment {
            case .text(let t): out += t
            case .separator: out += colour ? "  \u{1B}[2m|\u{1B}[0m  " : " | "
            case .word(let w, let text):
                let v = w < values.count ? values[w] : 0
                if colour {
                    let bg = RGB.attribution(v, scale: scale), fg = bg.readableText
                    out += "\u{1B}[48;2;\(bg.r);\(bg.g);\(bg.b)m\u{1B}[38;2;\(fg.r);\(fg.g);\(fg.b)m\(text)\u{1B}[0m"
                } else {
                    out += text + "[" + Self.signed(v, scale: scale) + "]"
                }
            }
        }
        return out
    }

    /// The header and the highlighted text of an integrated-gradients explanation, one block per
    /// explained label.
    public func attributions(_ e: ExplainedText, texts: [String]) -> String {
        var lines: [String] = []
        for target in e.attributions ?? [] {
            let probability = e.scores[target.label] ?? 0
            lines.append("\(target.label) (p=\(String(format: "%.4f", probability)); predicted \(e.label)); "
                         + "completeness gap \(String(format: "%.2e", target.completenessGap)) of Δlogit "
                         + String(format: "%.4f", target.logit - target.baselineLogit)
                         + (e.windows.map { $0 > 1 ? "; read in \($0) windows" : "" } ?? ""))
            lines.append("  " + highlight(e, values: target.words, texts: texts))
        }
        return lines.joined(separator: "\n")
    }

    /// Each layer's attention averaged over its heads, as a table of the tokens.
    public func attention(_ e: ExplainedText) -> String {
        guard let attention = e.attention, let layers = e.layers else { return "" }
        let names = e.tokens.map { String($0.token.prefix(10)) }
        let width = max(6, (names.map(\.count).max() ?? 0) + 1)
        func pad(_ s: String) -> String { s.count >= width ? s : String(repeating: " ", count: width - s.count) + s }
        var lines: [String] = []
        for (n, layer) in attention.enumerated() {
            lines.append("layer \(layers[n]) (mean of \(layer.count) heads; row: from, column: to)")
            lines.append(pad("") + names.map(pad).joined())
            for i in names.indices {
                let row = names.indices.map { j in layer.reduce(Float(0)) { $0 + $1[i][j] } / Float(layer.count) }
                let cells = row.map { v -> String in
                    let cell = pad(String(format: "%.2f", v))
                    guard colour else { return cell }
                    let bg = RGB.weight(v), fg = bg.readableText
                    return "\u{1B}[48;2;\(bg.r);\(bg.g);\(bg.b)m\u{1B}[38;2;\(fg.r);\(fg.g);\(fg.b)m\(cell)\u{1B}[0m"
                }
                lines.append(pad(names[i]) + cells.joined())
            }
        }
        return lines.joined(separator: "\n")
    }

    /// +0.42 / -0.07; in exponent form when the text's largest value would print as 0.00.
    public static func signed(_ v: Float, scale: Float) -> String {
        String(format: scale >= 0.05 ? "%+.2f" : "%+.2e", v)
    }
}
