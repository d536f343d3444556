import CQuantizedKernels

/// The word-embedding table (V, E) in int8, quantized per row (per token) as a dense layer's
/// weight is per output channel: q[v, :] = rint(W[v, :] · 127 / max|W[v, :]|). For MiniLM the
/// table is half of the fp32 weights (30522 × 384), so int8 serving keeps it in a quarter of the
/// bytes too; a lookup dequantizes one row, so the forward pass reads a few rows, not the table.
/// Position and token-type tables are small and stay fp32. Immutable; shared by every thread.
final class QuantizedEmbeddingTable: @unchecked Sendable {
    let rows: Int
    let width: Int
    /// (rows, width)
    let values: UnsafeMutablePointer<Int8>
    /// (rows)
    let scales: UnsafeMutablePointer<Float>

    init(table: UnsafePointer<Float>, rows: Int, width: Int) {
        (self.rows, self.width) = (rows, width)
        values = .allocate(capacity: rows * width)
        scales = .allocate(capacity: rows)
        bq_quantize_weights(table, width, Int32(rows), Int32(width), values, scales)
    }

    deinit {
        values.deallocate()
        scales.deallocate()
    }

    var residentBytes: Int { rows * width + rows * MemoryLayout<Float>.size }
}

/// `embeddingForward` with the word table in int8: out[t] = dequantized word[ids[t]] +
/// position[positions[t]] (+ tokenType[typeIds[t]]), in Hugging Face's order of additions.
func quantizedEmbeddingForward(out: UnsafeMutablePointer<Float>, ids: UnsafePointer<Int32>, positions: UnsafePointer<Int32>,
                               typeIds: UnsafePointer<Int32>?, word: QuantizedEmbeddingTable, position: UnsafePointer<Float>,
                               tokenType: UnsafePointer<Float>?, tokens: Int) {
    let hidden = word.width
    for t in 0..<tokens {
        let o = out + t * hidden
        let row = Int(ids[t])
        let (q, scale) = (word.values + row * hidden, word.scales[row])
        let p = position + Int(positions[t]) * hidden
        if let tokenType, let typeIds {
            let ty = tokenType + Int(typeIds[t]) * hidden
            for c in 0..<hidden { o[c] = (Float(q[c]) * scale + ty[c]) + p[c] }
        } else {
            for c in 0..<hidden { o[c] = Float(q[c]) * scale + p[c] }
        }
    }
}
