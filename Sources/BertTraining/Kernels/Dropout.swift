import BertCore

/// Counter-based random numbers for dropout masks: element i of mask site `site` in forward
/// pass `pass` is a hash of (seed, pass, site, i). Masks are reproducible from the seed alone,
/// do not depend on the thread count, and are drawn in parallel with no shared generator state.
public struct DropoutRNG: Sendable, Equatable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// SplitMix64's finaliser: a bijective 64-bit mix.
    @inline(__always) static func mix64(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The two 32-bit keys of one mask.
    func keys(pass: UInt64, site: UInt64) -> (UInt32, UInt32) {
        let k = Self.mix64(Self.mix64(Self.mix64(seed) ^ pass) ^ (site &* 0xD6E8_FEB8_6659_FD93))
        return (UInt32(truncatingIfNeeded: k), UInt32(truncatingIfNeeded: k >> 32))
    }
}

/// Where a mask is drawn: the site numbers keep every dropout of one pass independent.
enum DropoutSite {
    static let embeddings: UInt64 = 1
    static func attentionProbabilities(layer: Int) -> UInt64 { 100 + 8 * UInt64(layer) }
    static func attentionOutput(layer: Int) -> UInt64 { 101 + 8 * UInt64(layer) }
    static func feedForwardOutput(layer: Int) -> UInt64 { 102 + 8 * UInt64(layer) }
    static func lora(layer: Int, target: Int) -> UInt64 { 10_000 + 16 * UInt64(layer) + UInt64(target) }
    static let headInput: UInt64 = 20_000
    static let headHidden: UInt64 = 20_001
}

/// lowbias32 (C. Wellons' hash-prospector), eight lanes: a bijective 32-bit mix with good
/// avalanche, cheap with AVX2's 32-bit multiplies.
@inline(__always)
private func hash32(_ x: SIMD8<UInt32>) -> SIMD8<UInt32> {
    var x = x
    x ^= x &>> 16
    x &*= 0x7FEB_352D
    x ^= x &>> 15
    x &*= 0x846C_A68B
    x ^= x &>> 16
    return x
}

/// mask[i] = 0 with probability p, else 1/(1−p), for i in `range` (inverted dropout, as
/// torch.nn.Dropout: the expected value of x·mask is x). The draw for element i is
/// u = hash(hash(i + k0) ^ k1)/2³² and the element is kept when u ≥ p.
func dropoutMask(_ mask: UnsafeMutablePointer<Float>, range: Range<Int>, p: Float, keys: (UInt32, UInt32)) {
    let keep = 1 / (1 - p)
    // Compare in 24-bit fixed point: u = h >> 8 is uniform on 0..<2²⁴.
    let threshold = SIMD8<UInt32>(repeating: UInt32((Double(p) * 16_777_216).rounded(.toNearestOrEven)))
    let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
    var i = range.lowerBound
    while i + 8 <= range.upperBound {
        let h = hash32(hash32(SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: i)) &+ lanes &+ keys.0) ^ keys.1) &>> 8
        let v = Float8(repeating: keep).replacing(with: 0, where: h .< threshold)
        store8(v, mask + i)
        i += 8
    }
    while i < range.upperBound {
        let h = hash32(SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: i) &+ keys.0) ^ keys.1) &>> 8
        mask[i] = h[0] < threshold[0] ? 0 : keep
        i += 1
    }
}

/// A whole mask of `count` elements, drawn across the pool.
func dropoutMask(_ mask: UnsafeMutablePointer<Float>, count: Int, p: Float, rng: DropoutRNG, pass: UInt64, site: UInt64,
                 pool: ComputePool) {
    let keys = rng.keys(pass: pass, site: site)
    pool.parallelFor(count, granularity: 4096) { r in dropoutMask(mask, range: r, p: p, keys: keys) }
}

/// out[i] = inp[i] · mask[i] (torch.nn.Dropout with the mask drawn beforehand); out may be inp.
func dropoutForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { out[i] = inp[i] * mask[i] }
}

/// dInp[i] = dOut[i] · mask[i]; dInp may be dOut.
func dropoutBackward(dInp: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { dInp[i] = dOut[i] * mask[i] }
}

/// sum (rows, dim) = residual + dropout(delta + bias): the input of a post-LN block's
/// LayerNorm (HF BertSelfOutput / BertOutput: LayerNorm(dropout(dense(x)) + input)).
/// mask nil = no dropout; then the arithmetic is the inference kernel's, residual + (delta + bias).
/// Its backward is routing: the gradient of sum goes to residual as is, and through the mask to delta and bias.
func residualDropoutForward(sum: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>, delta: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>, mask: UnsafePointer<Float>?, rows: Int, dim: Int) {
    for r in 0..<rows {
        let s = sum + r * dim, x = residual + r * dim, d = delta + r * dim
        if let mask {
            let m = mask + r * dim
            for c in 0..<dim { s[c] = x[c] + (d[c] + bias[c]) * m[c] }
        } else {
            for c in 0..<dim { s[c] = x[c] + (d[c] + bias[c]) }
        }
    }
}
