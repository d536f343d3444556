// Sentence-transformers' Pooling(mean) → Normalize on one sequence of a padding-free batch, with
// its backward: the sentence embedding few-shot training puts its loss on. (BertCore's inference
// copy, `meanPoolNormalizeForward`, keeps no norm; the backward needs it.)

/// unit (H) = m / ‖m‖ with m = the mean of the L rows of hidden (L, H)
/// (torch.nn.functional.normalize, eps 1e-12). Returns ‖m‖ clamped to 1e-12, for the backward.
func meanPoolNormalizeForward(unit: UnsafeMutablePointer<Float>, hidden: UnsafePointer<Float>, tokens: Int, dim: Int) -> Float {
    unit.update(repeating: 0, count: dim)
    for t in 0..<tokens {
        let row = hidden + t * dim
        for c in 0..<dim { unit[c] += row[c] }
    }
    let inverse = 1 / Float(tokens)
    var squares: Float = 0
    for c in 0..<dim {
        unit[c] *= inverse
        squares += unit[c] * unit[c]
    }
    let norm = max(squares.squareRoot(), 1e-12)
    for c in 0..<dim { unit[c] /= norm }
    return norm
}

/// dHidden (L, H), written: every row gets ∂/∂m / L, where
/// ∂/∂m = (dUnit − (dUnit·unit) unit) / ‖m‖ (the normalisation's Jacobian is (I − u uᵀ)/‖m‖).
func meanPoolNormalizeBackward(dHidden: UnsafeMutablePointer<Float>, dUnit: UnsafePointer<Float>, unit: UnsafePointer<Float>,
                               norm: Float, tokens: Int, dim: Int) {
    var along: Float = 0
    for c in 0..<dim { along += dUnit[c] * unit[c] }
    let scale = 1 / (norm * Float(tokens))
    for c in 0..<dim { dHidden[c] = (dUnit[c] - along * unit[c]) * scale }
    for t in 1..<max(tokens, 1) { (dHidden + t * dim).update(from: dHidden, count: dim) }
}
