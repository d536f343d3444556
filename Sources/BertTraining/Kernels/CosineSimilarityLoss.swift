// sentence-transformers' CosineSimilarityLoss (losses/CosineSimilarityLoss.py): MSELoss between
// the cosine of each pair's embeddings and its label (1 similar, 0 not), mean over the P pairs.
// The embeddings here are unit vectors already (Normalize), so the cosine is their dot product.

/// loss = 1/P Σ_p (u_a(p)·u_b(p) − y_p)², units (2P, H) with pair p = rows 2p, 2p + 1.
/// Writes each pair's cosine to `cosines` (P).
func cosineSimilarityLossForward(cosines: UnsafeMutablePointer<Float>, units: UnsafePointer<Float>, targets: [Float], dim: Int) -> Float {
    var loss: Double = 0
    for (p, y) in targets.enumerated() {
        let (a, b) = (units + 2 * p * dim, units + (2 * p + 1) * dim)
        var dot: Float = 0
        for c in 0..<dim { dot += a[c] * b[c] }
        cosines[p] = dot
        loss += Double((dot - y) * (dot - y))
    }
    return Float(loss / Double(max(targets.count, 1)))
}

/// dUnits (2P, H), written: ∂loss/∂u_a = 2(cos − y)/P · u_b and symmetrically, times `scale`.
func cosineSimilarityLossBackward(dUnits: UnsafeMutablePointer<Float>, units: UnsafePointer<Float>, cosines: UnsafePointer<Float>,
                                  targets: [Float], dim: Int, scale: Float = 1) {
    let pairs = Float(max(targets.count, 1))
    for (p, y) in targets.enumerated() {
        let g = scale * 2 * (cosines[p] - y) / pairs
        let (a, b) = (units + 2 * p * dim, units + (2 * p + 1) * dim)
        let (da, db) = (dUnits + 2 * p * dim, dUnits + (2 * p + 1) * dim)
        for c in 0..<dim {
            da[c] = g * b[c]
            db[c] = g * a[c]
        }
    }
}
