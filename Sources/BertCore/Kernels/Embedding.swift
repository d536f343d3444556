/// out[t] = word[ids[t]] + position[positions[t]] (+ tokenType[typeIds[t]]), before LayerNorm.
/// out is (T, H); word is (V, H), position is (P, H), tokenType is (types, H) or nil (DistilBERT).
/// Ids are validated by the caller (TokenBatch) against the table sizes.
package func embeddingForward(out: UnsafeMutablePointer<Float>, ids: UnsafePointer<Int32>, positions: UnsafePointer<Int32>,
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

/// Backward of `embeddingForward`: dWord[ids[t]] += dOut[t], dPosition[positions[t]] += dOut[t],
/// dTokenType[typeIds[t]] += dOut[t], for the hidden columns in `columns` only.
/// dOut is (T, H); dWord (V, H), dPosition (P, H), dTokenType (types, H) have the tables' layout.
/// Only the rows that occur are touched (a batch uses a few hundred of 30522 word rows). Tokens
/// that share an id add into the same row, so the pool splits this by columns, not by tokens.
/// A nil table gradient is skipped (that table is frozen or absent).
package func embeddingBackward(dWord: UnsafeMutablePointer<Float>?, dPosition: UnsafeMutablePointer<Float>?,
                               dTokenType: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
                               ids: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, typeIds: UnsafePointer<Int32>?,
                               tokens: Int, hidden: Int, columns: Range<Int>) {
    for t in 0..<tokens {
        let d = dOut + t * hidden
        if let dWord {
            let w = dWord + Int(ids[t]) * hidden
            for c in columns { w[c] += d[c] }
        }
        if let dPosition {
            let p = dPosition + Int(positions[t]) * hidden
            for c in columns { p[c] += d[c] }
        }
        if let dTokenType, let typeIds {
            let ty = dTokenType + Int(typeIds[t]) * hidden
            for c in columns { ty[c] += d[c] }
        }
    }
}
