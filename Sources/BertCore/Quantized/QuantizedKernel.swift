import CQuantizedKernels

/// The implementations of the int8 GEMM (CQuantizedKernels), fastest first. All give the same
/// int32 sums and the same dequantized floats, so the choice changes speed, never results.
public enum QuantizedKernel: String, Sendable, CaseIterable {
    case avx512VNNI = "avx512-vnni"
    case avx2 = "avx2"
    case scalar = "scalar"

    var c: bq_kernel {
        switch self {
        case .avx512VNNI: return BQ_KERNEL_AVX512_VNNI
        case .avx2: return BQ_KERNEL_AVX2
        case .scalar: return BQ_KERNEL_SCALAR
        }
    }

    /// Whether this CPU runs it.
    public var isAvailable: Bool { bq_kernel_available(c) != 0 }

    /// Every kernel this CPU runs, fastest first.
    public static var available: [QuantizedKernel] { allCases.filter(\.isAvailable) }

    /// The fastest kernel this CPU runs, read once.
    public static let best: QuantizedKernel = available[0]

    /// The kernel int8 models use: `best`, unless a test or benchmark pins another
    /// (set it between forward passes only).
    nonisolated(unsafe) package static var active: QuantizedKernel = best
}
