import Foundation

/// A hand-written SVG document: shapes and text appended in drawing order. No dependency, and
/// every string that came from data goes through `escaped` first.
struct SVGDocument {
    let width: Double
    var height: Double
    private(set) var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String? = nil, title: String? = nil) {
        let strokeAttribute = stroke.map { " stroke=\"\($0)\"" } ?? ""
        let tooltip = title.map { "<title>\(Self.escaped($0))</title>" } ?? ""
        elements.append("<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"\(fill)\"\(strokeAttribute)>\(tooltip)</rect>")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1, dash: String? = nil) {
        let dashAttribute = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        elements.append("<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\"\(dashAttribute)/>")
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double, opacity: Double = 1) {
        guard points.count > 1 else { return }
        let list = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\" stroke-opacity=\"\(f(opacity))\" stroke-linejoin=\"round\"/>")
    }

    mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String, title: String? = nil) {
        let tooltip = title.map { "<title>\(Self.escaped($0))</title>" } ?? ""
        elements.append("<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(r))\" fill=\"\(fill)\">\(tooltip)</circle>")
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ x: Double, _ y: Double, _ string: String, size: Double = 12, anchor: Anchor = .start,
                       bold: Bool = false, fill: String = "#222", rotate: Double? = nil) {
        let weight = bold ? " font-weight=\"bold\"" : ""
        let transform = rotate.map { " transform=\"rotate(\(f($0)) \(f(x)) \(f(y)))\"" } ?? ""
        elements.append("<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(f(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(fill)\"\(weight)\(transform)>\(Self.escaped(string))</text>")
    }

    func rendered() -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="#ffffff"/>
        \(elements.joined(separator: "\n"))
        </svg>

        """
    }

    /// Text as XML character data / attribute value; control characters XML 1.0 forbids are dropped.
    static func escaped(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += " "
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Coordinates with two decimals at most: small files, no exponent notation.
    private func f(_ v: Double) -> String { formatCoordinate(v) }
}

func formatCoordinate(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let rounded = (v * 100).rounded() / 100
    return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2f", rounded)
}

/// A metric value as people read it: 4 significant decimals for values in [0, 10).
func formatMetric(_ v: Double?) -> String {
    guard let v else { return "n/a" }
    guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "∞" : "−∞") }
    return abs(v) < 10 ? String(format: "%.4f", v) : String(format: "%.1f", v)
}

/// A name cut to `limit` characters in the middle: labels often share a prefix
/// ("class-with-a-long-name-12") and differ at the end, so both ends stay visible.
func shortened(_ name: String, toFit limit: Int) -> String {
    guard name.count > limit, limit >= 3 else { return name }
    let tail = (limit - 1) / 2
    return String(name.prefix(limit - 1 - tail)) + "…" + String(name.suffix(tail))
}

/// Tick values for an axis from lo to hi: steps of 1, 2 or 5 × 10ⁿ, about `count` of them.
func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
    guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
    let raw = (hi - lo) / Double(count)
    let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var ticks: [Double] = []
    var t = Foundation.ceil(lo / step - 1e-9) * step
    while t <= hi + step * 1e-9 { ticks.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
    return ticks
}
