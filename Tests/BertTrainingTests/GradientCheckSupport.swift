import BertCore
import Foundation
import XCTest

// Gradient checks: each op's Float backward kernel against central differences of a plain
// Double-precision implementation of its forward (so the numerical gradient is accurate to
// ~1e-10), after checking that the Float forward computes that same function.

/// A reproducible generator (SplitMix64) so failures repeat.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    mutating func floats(_ n: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &self) }
    }
}

/// ∂f/∂inputs[k][i] by central differences, for every tensor k and element i.
func numericGradients(_ inputs: [[Float]], h: Double = 1e-5, _ f: ([[Double]]) -> Double) -> [[Float]] {
    var x = inputs.map { $0.map(Double.init) }
    var grads: [[Float]] = []
    for k in x.indices {
        var g = [Float](repeating: 0, count: x[k].count)
        for i in x[k].indices {
            let saved = x[k][i]
            x[k][i] = saved + h
            let plus = f(x)
            x[k][i] = saved - h
            let minus = f(x)
            x[k][i] = saved
            g[i] = Float((plus - minus) / (2 * h))
        }
        grads.append(g)
    }
    return grads
}

/// Σ w·y: the scalar whose gradient with respect to y is w (the dOut fed to a backward kernel).
func weightedSum(_ y: [Double], _ w: [Float]) -> Double {
    zip(y, w).reduce(0) { $0 + $1.0 * Double($1.1) }
}

func softmaxDouble(_ z: [Double]) -> [Double] {
    let m = z.max() ?? 0
    let e = z.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

func activationDouble(_ x: Double, _ a: Activation) -> Double {
    switch a {
    case .identity: return x
    case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
    case .geluTanh: return 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    case .relu: return max(x, 0)
    case .tanh: return Foundation.tanh(x)
    }
}

/// Runs body with a pointer to the array's elements, or nil for a nil array.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
