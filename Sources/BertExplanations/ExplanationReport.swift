import Foundation

/// A page a person reads: texts with their words highlighted by attribution (the number on
/// hover), and the attention maps of every layer and head as a heatmap grid. One self-contained
/// file: inline CSS, heatmaps as embedded PNG, no script and nothing fetched.
public struct ExplanationReport {
    public struct Item {
        /// The text (and its pair).
        public var texts: [String]
        /// A line above the text ("true: negative, predicted: positive (0.97)").
        public var caption: String?
        public var attributions: ExplainedText?
        public var attention: ExplainedText?

        public init(texts: [String], caption: String? = nil, attributions: ExplainedText? = nil, attention: ExplainedText? = nil) {
            self.texts = texts
            self.caption = caption
            self.attributions = attributions
            self.attention = attention
        }
    }

    public var title: String
    public var items: [Item]

    public init(title: String, items: [Item]) {
        self.title = title
        self.items = items
    }

    // MARK: HTML

    public var html: String {
        var body = ""
        for (n, item) in items.enumerated() {
            body += "<section aria-labelledby=\"t\(n)\">\n<h2 id=\"t\(n)\">\(escape(item.caption ?? "Text \(n + 1)"))</h2>\n"
            if let e = item.attributions {
                for target in e.attributions ?? [] {
                    let probability = e.scores[target.label] ?? 0
                    body += "<p class=\"target\">Why <b>\(escape(target.label))</b> (p = \(format(probability))): red words raise its logit, blue ones lower it. "
                        + "Completeness gap \(String(format: "%.1e", target.completenessGap)) of Δlogit \(format(target.logit - target.baselineLogit)) "
                        + "(\(e.steps ?? 0) steps, \(escape(e.rule ?? "")), \(escape(e.baseline ?? "")) baseline).</p>\n"
                    body += "<p class=\"text\">" + highlighted(e, values: target.words, texts: item.texts) + "</p>\n"
                }
            }
            if let a = item.attention, let maps = a.attention, let layers = a.layers, let heads = a.heads {
                body += "<details open><summary>Attention: \(layers.count) layers × \(heads.count) heads (row: from token, column: to token)</summary>\n"
                body += "<p class=\"tokens\">Tokens: " + a.tokens.map { "<code>\(escape($0.token))</code>" }.joined(separator: " ") + "</p>\n"
                body += "<table class=\"grid\"><tr><th></th>" + heads.map { "<th scope=\"col\">head \($0)</th>" }.joined() + "</tr>\n"
                for (l, layer) in maps.enumerated() {
                    body += "<tr><th scope=\"row\">layer \(layers[l])</th>"
                    for (h, map) in layer.enumerated() {
                        let uri = heatmap(map)
                        body += "<td><img src=\"\(uri)\" alt=\"attention of layer \(layers[l]) head \(heads[h])\" width=\"96\" height=\"96\"></td>"
                    }
                    body += "</tr>\n"
                }
                body += "</table></details>\n"
            }
            body += "</section>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #111; max-width: 80rem; }
        h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
        .text { font-size: 1.15rem; line-height: 2.1; }
        .w { padding: 0.15em 0.2em; border-radius: 0.2em; }
        .grid img { image-rendering: pixelated; border: 1px solid #ccc; display: block; }
        .grid th { font-weight: normal; font-size: 0.8rem; color: #444; }
        .tokens code { background: #f3f3f3; padding: 0 0.2em; }
        .legend span { display: inline-block; padding: 0.1em 0.5em; }
        </style></head>
        <body>
        <h1>\(escape(title))</h1>
        <p class="legend">Attribution: <span style="background:#6f6fff;color:#fff">lowers the label</span><span style="background:#fff;border:1px solid #ccc">neutral</span><span style="background:#ff6f6f;color:#fff">raises the label</span> — hover a word for its number.</p>
        \(body)</body></html>

        """
    }

    private func highlighted(_ e: ExplainedText, values: [Float], texts: [String]) -> String {
        let scale = values.map(abs).max() ?? 0
        return e.segments(texts: texts).map { segment -> String in
            switch segment {
            case .text(let t): return escape(t)
            case .separator: return " <span aria-hidden=\"true\">│</span> "
            case .word(let w, let text):
                let v = w < values.count ? values[w] : 0
                let bg = RGB.attribution(v, scale: scale)
                let number = TerminalView.signed(v, scale: scale)
                return "<span class=\"w\" style=\"background:\(bg.hex);color:\(bg.readableText.hex)\" title=\"\(number)\" aria-label=\"\(escape(text)) \(number)\">\(escape(text))</span>"
            }
        }.joined()
    }

    private func heatmap(_ map: [[Float]]) -> String {
        PNGImage.dataURI(width: map.count, height: map.count) { x, y in RGB.weight(map[y][x]) }
    }

    // MARK: SVG

    /// The same as one SVG drawing: per text, the highlighted words (monospace, wrapped at 80
    /// characters) and the heatmap grid.
    public var svg: String {
        let charWidth = 8.4, lineHeight = 24.0, cell = 72.0
        var y = 40.0
        var parts: [String] = ["<text x=\"12\" y=\"24\" font-size=\"16\" font-family=\"sans-serif\" font-weight=\"bold\">\(escape(title))</text>"]
        var width = 80 * charWidth + 24
        for (n, item) in items.enumerated() {
            y += 12
            parts.append("<text x=\"12\" y=\"\(y + 14)\" font-size=\"14\" font-family=\"sans-serif\">\(escape(item.caption ?? "Text \(n + 1)"))</text>")
            y += 24
            if let e = item.attributions {
                for target in e.attributions ?? [] {
                    parts.append("<text x=\"12\" y=\"\(y + 12)\" font-size=\"12\" font-family=\"sans-serif\" fill=\"#444\">why \(escape(target.label)) (p = \(format(e.scores[target.label] ?? 0)))</text>")
                    y += 18
                    let scale = target.words.map(abs).max() ?? 0
                    var column = 0
                    for segment in e.segments(texts: item.texts) {
                        let (text, value): (String, Float?) = {
                            switch segment {
                            case .text(let t): return (t.replacingOccurrences(of: "\n", with: " "), nil)
                            case .separator: return (" | ", nil)
                            case .word(let w, let t): return (t, w < target.words.count ? target.words[w] : 0)
                            }
                        }()
                        if column + text.count > 80 && column > 0 { column = 0; y += lineHeight }
                        let x = 12 + Double(column) * charWidth
                        if let value {
                            let bg = RGB.attribution(value, scale: scale)
                            parts.append("<rect x=\"\(x)\" y=\"\(y)\" width=\"\(Double(text.count) * charWidth)\" height=\"\(lineHeight - 4)\" fill=\"\(bg.hex)\"><title>\(escape(text)) \(TerminalView.signed(value, scale: scale))</title></rect>")
                        }
                        parts.append("<text x=\"\(x)\" y=\"\(y + 15)\" font-size=\"14\" font-family=\"monospace\" xml:space=\"preserve\">\(escape(text))</text>")
                        column += text.count
                    }
                    y += lineHeight + 8
                }
            }
            if let a = item.attention, let maps = a.attention, let layers = a.layers, let heads = a.heads {
                for (l, layer) in maps.enumerated() {
                    parts.append("<text x=\"12\" y=\"\(y + cell / 2)\" font-size=\"11\" font-family=\"sans-serif\">layer \(layers[l])</text>")
                    for (h, map) in layer.enumerated() {
                        let x = 70 + Double(h) * (cell + 4)
                        parts.append("<image x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" style=\"image-rendering:pixelated\" href=\"\(heatmap(map))\"><title>layer \(layers[l]) head \(heads[h])</title></image>")
                        width = max(width, x + cell + 12)
                    }
                    y += cell + 4
                }
            }
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(y + 20))\" viewBox=\"0 0 \(Int(width)) \(Int(y + 20))\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + parts.joined(separator: "\n") + "\n</svg>\n"
    }

    private func format(_ v: Float) -> String { String(format: "%.4f", v) }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
