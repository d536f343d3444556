import CQuantizedKernels

/// A dense layer's weight (outF, inF) quantized per output channel, symmetric int8 in [-127, 127]
/// (scale[j] = max|W[j, :]| / 127), packed in the GEMM's block layout. The bias stays fp32 in the
/// parameter arena. Immutable after init; shared by every thread.
public final class QuantizedLinear: @unchecked Sendable {
    public let outFeatures: Int
    public let inFeatures: Int
    /// (padded outF / 16) blocks of (padded inF / 4) groups of 64 bytes (bq_pack_weights).
    let packed: UnsafeMutablePointer<Int8>
    /// (padded outF): Σ_k q[j, k], for the VNNI kernel's unsigned offset.
    let columnSums: UnsafeMutablePointer<Int32>
    /// (outF)
    let scales: UnsafeMutablePointer<Float>

    /// weight is (outF, inF) row-major, as torch.nn.Linear stores it.
    public init(weight: UnsafePointer<Float>, outFeatures n: Int, inFeatures k: Int) {
        outFeatures = n
        inFeatures = k
        let q = UnsafeMutablePointer<Int8>.allocate(capacity: n * k)
        defer { q.deallocate() }
        scales = .allocate(capacity: n)
        bq_quantize_weights(weight, k, Int32(n), Int32(k), q, scales)
        (packed, columnSums) = Self.pack(q, n: n, k: k)
    }

    /// Already-quantized weights q (outF, inF) in [-127, 127] with their scales (tests).
    public init(quantized q: [Int8], scales s: [Float], outFeatures n: Int, inFeatures k: Int) {
        precondition(q.count == n * k && s.count == n, "q must be (outF, inF), scales (outF)")
        outFeatures = n
        inFeatures = k
        scales = .allocate(capacity: n)
        scales.initialize(from: s, count: n)
        (packed, columnSums) = q.withUnsafeBufferPointer { Self.pack($0.baseAddress!, n: n, k: k) }
    }

    private static func pack(_ q: UnsafePointer<Int8>, n: Int, k: Int) -> (UnsafeMutablePointer<Int8>, UnsafeMutablePointer<Int32>) {
        let bytes = bq_packed_bytes(Int32(n), Int32(k))
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        let packed = raw.bindMemory(to: Int8.self, capacity: max(bytes, 64))
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: Int(bq_padded_n(Int32(n))))
        bq_pack_weights(q, k, Int32(n), Int32(k), packed, sums)
        return (packed, sums)
    }

    deinit {
        packed.deallocate()
        columnSums.deallocate()
        scales.deallocate()
    }

    /// k rounded up to the GEMM's group of 4: the row length of quantized activations.
    public var paddedInFeatures: Int { Int(bq_padded_k(Int32(inFeatures))) }

    /// Bytes this layer keeps resident: packed weights, column sums and scales.
    public var residentBytes: Int {
        bq_packed_bytes(Int32(outFeatures), Int32(inFeatures)) + Int(bq_padded_n(Int32(outFeatures))) * 4 + outFeatures * 4
    }

    /// The per-channel scales (tests, reports).
    public var weightScales: [Float] { Array(UnsafeBufferPointer(start: scales, count: outFeatures)) }
}
