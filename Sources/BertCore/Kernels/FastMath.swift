// Vectorised exp and erf for the softmax and GELU kernels. libm's expf/erff are scalar calls
// (~10 ns each); a MiniLM batch of 4096 tokens needs ~38 M erf and ~38 M exp per forward, so
// these run eight lanes at a time with polynomial approximations accurate to a few ulp —
// far inside the 1e-5 parity budget.

public typealias Float8 = SIMD8<Float>

@inline(__always)
package func fastExp(_ x: Float8) -> Float8 {
    // Cephes expf: exp(x) = 2^n · exp(r), n = round(x / ln 2), r = x − n·ln 2 (split in two
    // constants for precision), exp(r) by a degree-6 polynomial on |r| ≤ ln2/2.
    var x = lanesMin(lanesMax(x, Float8(repeating: -87.33654)), Float8(repeating: 88.3762626647949))
    let n = (x * 1.44269504088896341 + 0.5).rounded(.down)
    x = x - n * 0.693359375
    x = x - n * -2.12194440e-4
    var y = Float8(repeating: 1.9875691500e-4)
    y = y * x + 1.3981999507e-3
    y = y * x + 8.3334519073e-3
    y = y * x + 4.1665795894e-2
    y = y * x + 1.6666665459e-1
    y = y * x + 5.0000001201e-1
    y = y * (x * x) + x + 1
    // 2^n from the bits: adding 1.5·2^23 puts the integer n in the low mantissa bits, which
    // avoids a float→int conversion Swift would do lane by lane with range checks.
    let magic: Float = 12_582_912
    let ni = unsafeBitCast(n + magic, to: SIMD8<Int32>.self) &- unsafeBitCast(Float8(repeating: magic), to: SIMD8<Int32>.self)
    let bits = (ni &+ 127) &<< 23
    return y * unsafeBitCast(bits, to: Float8.self)
}

@inline(__always)
package func fastErf(_ x: Float8) -> Float8 {
    // The rational approximation of Eigen/TensorFlow (generic_fast_erf_float): odd polynomial
    // over even polynomial on [-4, 4]; erf is ±1 to float precision beyond.
    let x = lanesMin(lanesMax(x, Float8(repeating: -4)), Float8(repeating: 4))
    let x2 = x * x
    var p = Float8(repeating: -2.72614225801306e-10)
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 + -2.10102402082508e-06
    p = p * x2 + -5.69250639462346e-05
    p = p * x2 + -7.34990630326855e-04
    p = p * x2 + -2.95459980854025e-03
    p = p * x2 + -1.60960333262415e-02
    p = p * x
    var q = Float8(repeating: -1.45660718464996e-05)
    q = q * x2 + -2.13374055278905e-04
    q = q * x2 + -1.68282697438203e-03
    q = q * x2 + -7.37332916720468e-03
    q = q * x2 + -1.42647390514189e-02
    return p / q
}

@inline(__always)
package func fastTanh(_ x: Float8) -> Float8 {
    // tanh(x) = 1 − 2 / (exp(2x) + 1); exact enough away from 0, and near 0 the relative error
    // of this form stays ~1e-7 absolute, which is what the parity tests measure.
    let e = fastExp(x * 2)
    return 1 - 2 / (e + 1)
}

/// Scalar versions for loop tails, computed through the vector code so tails round identically.
@inline(__always) package func fastExp(_ x: Float) -> Float { fastExp(Float8(repeating: x))[0] }
@inline(__always) package func fastErf(_ x: Float) -> Float { fastErf(Float8(repeating: x))[0] }
@inline(__always) package func fastTanh(_ x: Float) -> Float { fastTanh(Float8(repeating: x))[0] }

/// Lane-wise max and min. The standard library's pointwiseMax/pointwiseMin (and `clamped`,
/// built on them) stay out-of-line generic calls in release builds — 5 % of a forward pass —
/// where a compare and a blend are what is meant. A NaN in `a` is kept.
@inline(__always)
package func lanesMax(_ a: Float8, _ b: Float8) -> Float8 { a.replacing(with: b, where: b .> a) }

@inline(__always)
package func lanesMin(_ a: Float8, _ b: Float8) -> Float8 { a.replacing(with: b, where: b .< a) }

@inline(__always)
package func load8(_ p: UnsafePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

@inline(__always)
package func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}
