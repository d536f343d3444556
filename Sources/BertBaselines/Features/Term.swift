/// A vocabulary term compared byte for byte, as Python compares `str`s.
///
/// Swift's `String` equality and hashing follow canonical equivalence: "é" (U+00E9) equals
/// "e\u{301}", and a char n-gram of three scalars could equal another of four. scikit-learn
/// keeps those apart (a Python dict compares code points), so the vocabulary is keyed by this
/// wrapper, whose equality and hash are those of the UTF-8 bytes — the same as the code points.
struct Term: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: Term, b: Term) -> Bool {
        a.text.utf8.count == b.text.utf8.count && a.text.utf8.elementsEqual(b.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil { for byte in text.utf8 { hasher.combine(byte) } }
    }

    /// Python's `str` order: by code point, which is the order of the UTF-8 bytes.
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
