/// An immutable open-addressing hash table from UTF-8 byte strings to token ids.
///
/// The hot loops of WordPiece and BPE look up substrings of a reused byte buffer; a
/// `[String: Int]` would need a String (allocation, normalization-aware hashing and comparison)
/// per lookup. Here a lookup hashes the bytes in place and compares with `memcmp`-style loops.
final class ByteStringTable: @unchecked Sendable {
    private let keyBytes: UnsafeMutablePointer<UInt8>       // all keys, concatenated
    private let keyStart: UnsafeMutablePointer<Int32>       // per entry
    private let keyLength: UnsafeMutablePointer<Int32>      // per entry
    private let keyHash: UnsafeMutablePointer<UInt64>       // per entry, to skip most compares
    private let values: UnsafeMutablePointer<Int32>         // per entry
    private let slots: UnsafeMutablePointer<Int32>          // entry index + 1, 0 = empty
    private let mask: Int
    let count: Int
    /// The longest key in bytes: no lookup of a longer substring can succeed.
    let maxKeyLength: Int

    /// Builds the table; a key given twice keeps its last value (as Python's dict and
    /// `load_vocab` do for a vocab.txt with duplicate lines).
    init<S: Sequence>(_ entries: S) where S.Element == ([UInt8], Int32) {
        var merged: [[UInt8]: Int32] = [:]
        var order: [[UInt8]] = []
        for (key, value) in entries {
            if merged.updateValue(value, forKey: key) == nil { order.append(key) }
        }
        count = order.count
        let totalBytes = order.reduce(0) { $0 + $1.count }
        let keyBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(totalBytes, 1))
        let keyStart = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
        let keyLength = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
        let keyHash = UnsafeMutablePointer<UInt64>.allocate(capacity: max(count, 1))
        let values = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
        var capacity = 16
        while capacity < count * 2 { capacity *= 2 }
        let mask = capacity - 1
        let slots = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        var offset = 0
        var longest = 0
        for (index, key) in order.enumerated() {
            for (k, byte) in key.enumerated() { keyBytes[offset + k] = byte }
            let hash = ByteStringTable.hash(UnsafePointer(keyBytes + offset), key.count)
            keyStart[index] = Int32(offset)
            keyLength[index] = Int32(key.count)
            keyHash[index] = hash
            values[index] = merged[key]!
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
            offset += key.count
            longest = max(longest, key.count)
        }
        self.keyBytes = keyBytes; self.keyStart = keyStart; self.keyLength = keyLength
        self.keyHash = keyHash; self.values = values; self.slots = slots; self.mask = mask
        maxKeyLength = longest
    }

    deinit {
        keyBytes.deallocate(); keyStart.deallocate(); keyLength.deallocate()
        keyHash.deallocate(); values.deallocate(); slots.deallocate()
    }

    /// The id of the key `bytes[0..<length]`, or -1.
    @inline(__always)
    func lookup(_ bytes: UnsafePointer<UInt8>, _ length: Int) -> Int32 { view.lookup(bytes, length) }

    /// The table's memory without the owning object: copying it costs no reference counting,
    /// so threads sharing one tokenizer never write to a shared cache line while encoding.
    /// Valid while the table is alive.
    var view: View {
        View(keyBytes: keyBytes, keyStart: keyStart, keyLength: keyLength, keyHash: keyHash, values: values,
             slots: slots, mask: mask, maxKeyLength: maxKeyLength)
    }

    struct View: @unchecked Sendable {
        fileprivate let keyBytes: UnsafeMutablePointer<UInt8>
        fileprivate let keyStart: UnsafeMutablePointer<Int32>
        fileprivate let keyLength: UnsafeMutablePointer<Int32>
        fileprivate let keyHash: UnsafeMutablePointer<UInt64>
        fileprivate let values: UnsafeMutablePointer<Int32>
        fileprivate let slots: UnsafeMutablePointer<Int32>
        fileprivate let mask: Int
        let maxKeyLength: Int

        @inline(__always)
        func lookup(_ bytes: UnsafePointer<UInt8>, _ length: Int) -> Int32 {
            if length > maxKeyLength { return -1 }
            let hash = ByteStringTable.hash(bytes, length)
            var slot = Int(truncatingIfNeeded: hash) & mask
            while true {
                let entry = Int(slots[slot])
                if entry == 0 { return -1 }
                let index = entry - 1
                if keyHash[index] == hash && Int(keyLength[index]) == length
                    && ByteStringTable.equal(keyBytes + Int(keyStart[index]), bytes, length) {
                    return values[index]
                }
                slot = (slot + 1) & mask
            }
        }
    }

    func lookup(_ key: String) -> Int32 {
        var key = key
        return key.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return lookupEmpty() }
            return lookup(base, buffer.count)
        }
    }

    private func lookupEmpty() -> Int32 {
        var zero: UInt8 = 0
        return withUnsafePointer(to: &zero) { lookup($0, 0) }
    }

    @inline(__always)
    fileprivate static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        var i = 0
        while i + 8 <= length {
            if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self)
                != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) { return false }
            i += 8
        }
        while i < length {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// A word-at-a-time multiply-xorshift hash: the keys are short (a few bytes), so the loop
    /// usually runs once or twice.
    @inline(__always)
    static func hash(_ bytes: UnsafePointer<UInt8>, _ length: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: length)
        var i = 0
        while i + 8 <= length {
            let word = UnsafeRawPointer(bytes + i).loadUnaligned(as: UInt64.self)
            h = (h ^ word) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        if i < length {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < length {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0xFF51_AFD7_ED55_8CCD
        }
        h ^= h >> 29
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 32
        return h
    }
}

/// An immutable open-addressing table from a pair of token ids to a BPE merge (rank, new id).
final class MergeTable: @unchecked Sendable {
    private let keys: UnsafeMutablePointer<UInt64>     // (left << 32 | right) + 1; 0 = empty
    private let merges: UnsafeMutablePointer<UInt64>   // rank << 32 | merged id
    private let mask: Int

    init(_ entries: [(left: Int32, right: Int32, rank: Int32, merged: Int32)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity *= 2 }
        mask = capacity - 1
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        merges = .allocate(capacity: capacity)
        merges.initialize(repeating: 0, count: capacity)
        for entry in entries {
            let key = MergeTable.key(entry.left, entry.right)
            var slot = MergeTable.slot(key) & mask
            while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & mask }
            // A pair listed twice keeps its last rank: HF collects the merges into a HashMap in
            // order, so the later entry overwrites the earlier one.
            keys[slot] = key
            merges[slot] = UInt64(UInt32(bitPattern: entry.rank)) << 32 | UInt64(UInt32(bitPattern: entry.merged))
        }
    }

    deinit { keys.deallocate(); merges.deallocate() }

    @inline(__always) fileprivate static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        (UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))) &+ 1
    }

    @inline(__always) fileprivate static func slot(_ key: UInt64) -> Int {
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 31
        return Int(truncatingIfNeeded: h)
    }

    /// The table's memory without the owning object (see `ByteStringTable.View`).
    var view: View { View(keys: keys, merges: merges, mask: mask) }

    struct View: @unchecked Sendable {
        fileprivate let keys: UnsafeMutablePointer<UInt64>
        fileprivate let merges: UnsafeMutablePointer<UInt64>
        fileprivate let mask: Int

        /// (rank, merged id) of the pair, or (Int32.max, -1) when the pair is not a merge.
        @inline(__always)
        func merge(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32) {
            let key = MergeTable.key(left, right)
            var slot = MergeTable.slot(key) & mask
            while true {
                let stored = keys[slot]
                if stored == key {
                    let value = merges[slot]
                    return (Int32(truncatingIfNeeded: value >> 32), Int32(truncatingIfNeeded: value))
                }
                if stored == 0 { return (Int32.max, -1) }
                slot = (slot + 1) & mask
            }
        }
    }
}
