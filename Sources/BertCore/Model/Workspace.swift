/// Activation buffers for forward passes, reused across batches: they grow to the largest batch
/// seen and are never shrunk or reallocated per layer, so steady-state serving allocates nothing.
/// One workspace per compute thread; it is not thread-safe.
public final class Workspace {
    private(set) var capacityTokens = 0
    private(set) var capacitySequences = 0
    let hidden: Int
    let intermediate: Int
    let numLabels: Int
    let embedding: Int

    let hiddenStates = Buffer()  // (T, H) the residual stream; the encoder's output at the end (but see `pooled`)
    let qkv = Buffer()           // (T, 3H)
    let context = Buffer()       // (T, H) attention output before its projection
    let projection = Buffer()    // (T, H) dense output before residual + LayerNorm
    let ffn = Buffer()           // (T, I)
    let attentionScratch = Buffer()  // per thread: scores (L, L) and Kᵀ (d, L) of one head
    let positions = IntBuffer()  // (T)
    let embeddingScratch = Buffer()  // (T, E) embeddings before ELECTRA's projection; unused when E = H
    let pooled = Buffer()        // (B, H) the token each head reads (first token, or BERT's pooler output);
                                 // encode(.firstTokens) runs the last layer here
    let firstQueries = Buffer()  // (B, H) the last layer's queries of the first tokens (encode's .firstTokens)
    let headHidden = Buffer()    // (B, H)
    let logits = Buffer()        // (B, labels)
    let embeddings = Buffer()    // (B, H) mean-pooled, normalised
    let quantizedRows = ByteBuffer()  // (T, max(H, I) padded to 4) a dense layer's int8 input; int8 models only
    let rowScales = Buffer()     // (T) its per-token scales

    public init(hidden: Int, intermediate: Int, embedding: Int, numLabels: Int) {
        self.hidden = hidden
        self.embedding = embedding
        self.intermediate = intermediate
        self.numLabels = numLabels
    }

    /// Makes every buffer big enough for `tokens` tokens in `sequences` sequences, the longest `longest`.
    func reserve(tokens: Int, sequences: Int, longest: Int, attentionScratch scratch: Int) {
        if tokens > capacityTokens {
            let t = max(tokens, capacityTokens * 3 / 2)
            hiddenStates.resize(t * hidden); qkv.resize(t * 3 * hidden); context.resize(t * hidden)
            projection.resize(t * hidden); ffn.resize(t * intermediate); positions.resize(t)
            if embedding != hidden { embeddingScratch.resize(t * embedding) }
            capacityTokens = t
        }
        if sequences > capacitySequences {
            let b = max(sequences, capacitySequences * 3 / 2)
            pooled.resize(b * hidden); firstQueries.resize(b * hidden); headHidden.resize(b * hidden); logits.resize(b * max(numLabels, 1))
            embeddings.resize(b * hidden)
            capacitySequences = b
        }
        if scratch > attentionScratch.count { attentionScratch.resize(scratch) }
    }
}

extension Workspace {
    /// Makes the int8 input buffers big enough for `tokens` rows of `width` bytes.
    func reserveQuantizedRows(tokens: Int, width: Int) {
        let t = max(tokens, capacityTokens)
        if quantizedRows.count < t * width { quantizedRows.resize(t * width) }
        if rowScales.count < t { rowScales.resize(t) }
    }
}

/// A growable, 64-byte aligned Int8 buffer (contents are not kept when it grows).
final class ByteBuffer {
    private(set) var pointer: UnsafeMutablePointer<Int8>
    private(set) var count = 0

    init() { pointer = .allocate(capacity: 64) }

    func resize(_ n: Int) {
        pointer.deallocate()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(n, 64), alignment: 64)
        pointer = raw.bindMemory(to: Int8.self, capacity: max(n, 64))
        pointer.initialize(repeating: 0, count: max(n, 64))
        count = n
    }

    deinit { pointer.deallocate() }
}

/// A growable, 64-byte aligned Float32 buffer (contents are not kept when it grows).
final class Buffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var count = 0

    init() { pointer = Self.allocate(16) }

    func resize(_ n: Int) {
        pointer.deallocate()
        pointer = Self.allocate(n)
        count = n
    }

    private static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(n, 16) * 4, alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: max(n, 16))
        p.initialize(repeating: 0, count: max(n, 16))
        return p
    }

    deinit { pointer.deallocate() }
}

final class IntBuffer {
    var array: [Int32] = []
    func resize(_ n: Int) { array = [Int32](repeating: 0, count: n) }
}
