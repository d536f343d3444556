import Foundation

/// The activation that follows a dense layer, fused with its bias add.
public enum Activation: Sendable {
    case identity, gelu, geluTanh, relu, tanh
}

/// x[r, c] = act(x[r, c] + bias[c]) in place.
/// x is (rows, cols) with row stride ld, bias is (cols).
func biasActivationForward(_ x: UnsafeMutablePointer<Float>, ld: Int, bias: UnsafePointer<Float>,
                           rows: Int, cols: Int, activation: Activation) {
    for r in 0..<rows {
        let row = x + r * ld
        var c = 0
        while c + 8 <= cols {
            store8(apply(load8(row + c) + load8(bias + c), activation), row + c)
            c += 8
        }
        while c < cols {
            row[c] = apply(Float8(repeating: row[c] + bias[c]), activation)[0]
            c += 1
        }
    }
}

@inline(__always)
private func apply(_ v: Float8, _ activation: Activation) -> Float8 {
    switch activation {
    case .identity:
        return v
    case .gelu:  // x·Φ(x) = x/2 · (1 + erf(x/√2)), HF "gelu" (torch's exact GELU)
        return 0.5 * v * (1 + fastErf(v * 0.70710678118654752))
    case .geluTanh:  // HF "gelu_new": x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³)))
        return 0.5 * v * (1 + fastTanh(0.79788456080286536 * (v + 0.044715 * v * v * v)))
    case .relu:
        return v.replacing(with: 0, where: v .< 0)
    case .tanh:
        return fastTanh(v)
    }
}
