import CDenseKernels

/// The implementations of a dense layer over few rows (`linearForward` below `smallMRowLimit`),
/// fastest first: CDenseKernels' AVX-512 and AVX2 + FMA versions (weights prefetched a few tiles
/// ahead), and `linearSmallM` in Swift wherever neither runs. They sum in different orders, so
/// results agree to rounding, not bit for bit.
public enum SmallMKernel: String, Sendable, CaseIterable {
    case avx512 = "avx512"
    case avx2 = "avx2"
    case portable = "swift"

    var c: bd_small_m_kernel {
        switch self {
        case .avx512: return BD_SMALL_M_AVX512
        case .avx2: return BD_SMALL_M_AVX2
        case .portable: return BD_SMALL_M_NONE
        }
    }

    /// Whether this CPU runs it.
    public var isAvailable: Bool {
        switch self {
        case .portable: return true
        case .avx2: return bd_small_m_best() != BD_SMALL_M_NONE
        case .avx512: return bd_small_m_best() == BD_SMALL_M_AVX512
        }
    }

    /// Every kernel this CPU runs, fastest first.
    public static var available: [SmallMKernel] { allCases.filter(\.isAvailable) }

    /// The fastest kernel this CPU runs, read once.
    public static let best: SmallMKernel = available[0]

    /// The kernel dense layers use: `best`, unless a test or benchmark pins another
    /// (set it between forward passes only).
    nonisolated(unsafe) package static var active: SmallMKernel = best
}

/// out[i, n] = x[i, :] · W[n, :] for n in `columns`, with the active kernel (see `linearSmallM`).
@inline(__always)
package func linearSmallM(_ kernel: SmallMKernel = .active, out: UnsafeMutablePointer<Float>, ldo: Int,
                          x: UnsafePointer<Float>, ldx: Int, weight: UnsafePointer<Float>, m: Int, k: Int,
                          columns: Range<Int>) {
    if kernel == .portable {
        linearSmallM(out: out, ldo: ldo, x: x, ldx: ldx, weight: weight, m: m, k: k, columns: columns)
    } else {
        bd_linear_small_m(kernel.c, x, ldx, Int32(m), weight, Int32(k), Int32(columns.lowerBound),
                          Int32(columns.upperBound), out, ldo)
    }
}
