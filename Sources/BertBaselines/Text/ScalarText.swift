/// A run of Unicode scalars kept as UTF-8 with the byte offset of every scalar, so that the
/// substring of scalars i..<j (a Python slice `s[i:j]`) is one `String(decoding:)` of a byte
/// range: no per-scalar work, and no allocation for the short n-grams (≤ 15 bytes) Swift stores
/// inline.
struct ScalarText {
    private(set) var utf8: [UInt8] = []
    /// offsets[i] is where scalar i starts; offsets[count] == utf8.count.
    private(set) var offsets: [Int] = [0]

    init() {}

    init<S: Sequence>(_ scalars: S) where S.Element == Unicode.Scalar {
        for s in scalars { append(s) }
    }

    /// The number of scalars (Python's `len`).
    var count: Int { offsets.count - 1 }

    mutating func append(_ s: Unicode.Scalar) {
        UTF8.encode(s) { utf8.append($0) }
        offsets.append(utf8.count)
    }

    mutating func removeAll() {
        utf8.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
    }

    /// Scalars `range` as a String (Python `s[range.lowerBound:range.upperBound]`).
    func string(_ range: Range<Int>) -> String {
        utf8.withUnsafeBufferPointer { bytes in
            String(decoding: UnsafeBufferPointer(rebasing: bytes[offsets[range.lowerBound]..<offsets[range.upperBound]]), as: UTF8.self)
        }
    }
}
