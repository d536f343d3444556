/// A JSON value written with keys in the order given (JSONSerialization sorts or scrambles
/// them): replies, events and `--json` output read the same way every time.
public indirect enum JSON: Sendable {
    case string(String)
    case number(Double)
    case float(Float)
    case int(Int)
    case bool(Bool)
    case array([JSON])
    case object([(String, JSON)])
    case null

    public var text: String {
        switch self {
        case .string(let s): return JSON.quote(s)
        case .number(let d): return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)") : "null"
        case .float(let f): return f.isFinite ? "\(f)" : "null"
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { JSON.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    public static func floats(_ values: [Float]) -> JSON { .array(values.map { .float($0) }) }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension JSON {
    public var bytes: [UInt8] { Array(text.utf8) }
}

extension JSON {
    /// An object's field (the first of that name); nil for another field or another kind of value.
    public subscript(key: String) -> JSON? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
