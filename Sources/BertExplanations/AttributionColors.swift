/// The colour of an attribution: white at 0, towards red for a word that pushed the explained
/// label up, towards blue for one that pushed it down, saturated at ±scale (the text's largest
/// |value|). One scale for the terminal, the HTML page and the SVG.
public struct RGB: Equatable, Sendable {
    public let r: Int, g: Int, b: Int

    public var hex: String {
        func h(_ v: Int) -> String { let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }
        return "#" + h(r) + h(g) + h(b)
    }

    /// Blue–white–red for value/scale in [-1, 1].
    public static func attribution(_ value: Float, scale: Float) -> RGB {
        let x = scale > 0 ? max(-1, min(1, value / scale)) : 0
        let fade = Int((1 - abs(x)) * 255 + 0.5)  // how much of white remains
        return x >= 0 ? RGB(r: 255, g: fade, b: fade) : RGB(r: fade, g: fade, b: 255)
    }

    /// White to dark blue for an attention weight in [0, 1] (heatmaps).
    public static func weight(_ value: Float, scale: Float = 1) -> RGB {
        let x = scale > 0 ? max(0, min(1, value / scale)) : 0
        return RGB(r: Int(255 - 215 * x + 0.5), g: Int(255 - 175 * x + 0.5), b: Int(255 - 75 * x + 0.5))
    }

    /// Black or white, whichever reads better on this background.
    public var readableText: RGB {
        (r * 299 + g * 587 + b * 114) / 1000 > 140 ? RGB(r: 0, g: 0, b: 0) : RGB(r: 255, g: 255, b: 255)
    }
}
