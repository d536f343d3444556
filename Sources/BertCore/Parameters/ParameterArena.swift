import Foundation

/// One Float32 allocation holding every tensor of a `ParameterLayout` (parameters, or their
/// gradients, or optimizer moments: the same layout each time).
public final class ParameterArena: @unchecked Sendable {
    public let layout: ParameterLayout
    public let base: UnsafeMutablePointer<Float>
    public var count: Int { layout.totalCount }

    public init(layout: ParameterLayout) {
        self.layout = layout
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(layout.totalCount, 1) * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(layout.totalCount, 1))
        base.initialize(repeating: 0, count: max(layout.totalCount, 1))
    }

    deinit { base.deallocate() }

    @inline(__always) public subscript(ref: ParameterRef) -> UnsafeMutablePointer<Float> { base + ref.offset }

    public func zero() { base.update(repeating: 0, count: count) }

    /// A copy of one tensor's values (tests, checkpoints).
    public func values(_ ref: ParameterRef) -> [Float] { Array(UnsafeBufferPointer(start: self[ref], count: ref.count)) }

    public func values(named name: String) -> [Float]? { layout.spec(named: name).map { values($0.ref) } }

    /// Gives the memory pages that lie wholly inside these tensors back to the kernel
    /// (madvise MADV_DONTNEED): they stop counting as resident, and read as zeros afterwards.
    /// For weights that another copy replaces (int8 serving); returns the bytes released.
    func releasePages(of refs: [ParameterRef]) -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var released = 0
        for ref in refs {
            let start = Int(bitPattern: self[ref]), end = start + ref.count * MemoryLayout<Float>.size
            let first = (start + page - 1) / page * page, last = end / page * page
            guard last > first, madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, MADV_DONTNEED) == 0 else { continue }
            released += last - first
        }
        return released
    }
}
