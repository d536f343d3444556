/// One sequence's attention probabilities in every layer and head (HF's `output_attentions`):
/// row i of a map is how token i distributes its attention over the L tokens (it sums to 1).
public struct AttentionMaps: Sendable {
    public let layers: Int
    public let heads: Int
    public let length: Int
    /// layers × heads × L × L, row-major.
    public let values: [Float]
    /// The sequence's logits from the same forward.
    public let logits: [Float]

    /// The (L, L) map of one layer and head.
    public func map(layer: Int, head: Int) -> [Float] {
        let size = length * length
        let start = (layer * heads + head) * size
        return Array(values[start..<start + size])
    }

    /// Attention rollout (Abnar & Zuidema 2020): per layer the heads' mean plus the identity (the
    /// residual path), rows renormalised, multiplied from the first layer up. Row i of the (L, L)
    /// result is how the top layer's token i draws on each input token.
    public func rollout() -> [Float] {
        let n = length
        var result = [Float](repeating: 0, count: n * n)
        for i in 0..<n { result[i * n + i] = 1 }
        for l in 0..<layers {
            var a = [Float](repeating: 0, count: n * n)
            for h in 0..<heads {
                let m = map(layer: l, head: h)
                for (k, v) in m.enumerated() { a[k] += v / Float(heads) }
            }
            for i in 0..<n {
                a[i * n + i] += 1
                let sum = (0..<n).reduce(Float(0)) { $0 + a[i * n + $1] }
                for j in 0..<n { a[i * n + j] /= sum }
            }
            // result = a · result (the layer above applied after the layers below)
            var next = [Float](repeating: 0, count: n * n)
            for i in 0..<n {
                for k in 0..<n where a[i * n + k] != 0 {
                    let w = a[i * n + k]
                    for j in 0..<n { next[i * n + j] += w * result[k * n + j] }
                }
            }
            result = next
        }
        return result
    }
}
