/// out[t] = word[ids[t]] + position[positions[t]] (+ tokenType[typeIds[t]]), before LayerNorm.
/// out is (T, H); word is (V, H), position is (P, H), tokenType is (types, H) or nil (DistilBERT).
/// Ids are validated by the caller (TokenBatch) against the table sizes.
func embeddingForward(out: UnsafeMutablePointer<Float>, ids: UnsafePointer<Int32>, positions: UnsafePointer<Int32>,
                      typeIds: UnsafePointer<Int32>?, word: UnsafePointer<Float>, position: UnsafePointer<Float>,
                      tokenType: UnsafePointer<Float>?, tokens: Int, hidden: Int) {
    for t in 0..<tokens {
        let o = out + t * hidden
        let w = word + Int(ids[t]) * hidden
        let p = position + Int(positions[t]) * hidden
        if let tokenType, let typeIds {
            // HF order: (word + token_type) + position
            let ty = tokenType + Int(typeIds[t]) * hidden
            for c in 0..<hidden { o[c] = (w[c] + ty[c]) + p[c] }
        } else {
            for c in 0..<hidden { o[c] = w[c] + p[c] }
        }
    }
}
