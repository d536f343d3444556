/// out (H) = normalize(mean over the L rows of hidden (L, H)): sentence-transformers' mean
/// pooling (every token counts, there is no padding) followed by L2 normalisation
/// (torch.nn.functional.normalize, eps 1e-12).
func meanPoolNormalizeForward(out: UnsafeMutablePointer<Float>, hidden: UnsafePointer<Float>, tokens: Int, dim: Int) {
    out.update(repeating: 0, count: dim)
    for t in 0..<tokens {
        let row = hidden + t * dim
        for c in 0..<dim { out[c] += row[c] }
    }
    let inv = 1 / Float(tokens)
    for c in 0..<dim { out[c] *= inv }
    var norm: Float = 0
    for c in 0..<dim { norm += out[c] * out[c] }
    let scale = 1 / max(norm.squareRoot(), 1e-12)
    for c in 0..<dim { out[c] *= scale }
}
