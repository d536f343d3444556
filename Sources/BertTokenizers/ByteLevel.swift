/// HF's ByteLevel pre-tokenizer
/// (https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/pre_tokenizers/byte_level.rs):
/// the GPT-2 split pattern
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// applied by a hand-written scanner over Unicode scalars (a regex engine would dominate the
/// cost), then every byte of a piece is a symbol for BPE. BPE works on ids, so the byte →
/// printable-character table is only needed to find each byte's id in vocab.json.
enum ByteLevel {
    /// GPT-2's `bytes_to_unicode`: printable bytes map to themselves, the others to U+0100 + n.
    static let byteToCharacter: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Scratch arrays for one segment, reused across segments of an encode call.
    struct Scratch {
        /// Per scalar: its GPT-2 class and where it starts in the segment's bytes (+ end sentinel).
        var classes: [HFUnicode.GPT2Class] = []
        var scalarByteStart: [Int32] = []
        var scalars: [UInt32] = []
        /// The segment's bytes (with the prefix space when configured) and, per byte, the
        /// original scalar index of the character it belongs to.
        var bytes: [UInt8] = []
        var byteCharacter: [Int32] = []
        var bpe = BytePairEncoding.Scratch()
    }

    /// The class of an ASCII character by comparisons rather than a table: a global array would
    /// be one reference-counted buffer touched by every thread.
    @inline(__always)
    private static func asciiClass(_ byte: UInt32) -> HFUnicode.GPT2Class {
        let lower = byte | 0x20
        if lower >= 0x61 && lower <= 0x7A { return .letter }
        if byte >= 0x30 && byte <= 0x39 { return .number }
        if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) { return .whitespace }
        return .other
    }

    /// Calls `piece(start, end)` with the byte range of each pre-token of `bytes`, in order.
    @inline(__always)
    static func split(_ bytes: UnsafePointer<UInt8>, count: Int, scratch: inout Scratch, piece: (Int, Int) -> Void) {
        scratch.classes.removeAll(keepingCapacity: true)
        scratch.scalarByteStart.removeAll(keepingCapacity: true)
        scratch.scalars.removeAll(keepingCapacity: true)
        var i = 0
        while i < count {
            let (value, length) = decodeUTF8(bytes, at: i)
            scratch.classes.append(value < 0x80 ? asciiClass(value) : HFUnicode.gpt2Class(Unicode.Scalar(value)!))
            scratch.scalars.append(value)
            scratch.scalarByteStart.append(Int32(i))
            i += length
        }
        scratch.scalarByteStart.append(Int32(count))
        let n = scratch.scalars.count
        scratch.classes.withUnsafeBufferPointer { classes in
            scratch.scalars.withUnsafeBufferPointer { scalars in
                scratch.scalarByteStart.withUnsafeBufferPointer { byteStart in
                    var p = 0
                    while p < n {
                        let q = pieceEnd(at: p, count: n, classes: classes, scalars: scalars)
                        piece(Int(byteStart[p]), Int(byteStart[q]))
                        p = q
                    }
                }
            }
        }
    }

    /// The end (exclusive, in scalars) of the pattern's match at `p`: the first alternative that
    /// matches wins, as in a backtracking regex engine.
    @inline(__always)
    private static func pieceEnd(at p: Int, count n: Int, classes: UnsafeBufferPointer<HFUnicode.GPT2Class>,
                                 scalars: UnsafeBufferPointer<UInt32>) -> Int {
        let apostrophe: UInt32 = 0x27, space: UInt32 = 0x20
        if scalars[p] == apostrophe && p + 1 < n {
            // 's 't 'm 'd, then 're 've 'll (case-sensitive, as in GPT-2's pattern).
            let c1 = scalars[p + 1]
            if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 { return p + 2 }
            if p + 2 < n {
                let c2 = scalars[p + 2]
                if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C) { return p + 3 }
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
        var start = p
        if scalars[p] == space && p + 1 < n && classes[p + 1] != .whitespace { start = p + 1 }
        let runClass = classes[start]
        if runClass != .whitespace {
            var q = start + 1
            while q < n && classes[q] == runClass { q += 1 }
            return q
        }
        // `\s+(?!\S)` keeps the last whitespace for the next piece when a non-space follows;
        // `\s+` takes a single whitespace character followed by a non-space.
        var q = p + 1
        while q < n && classes[q] == .whitespace { q += 1 }
        if q == n || q - p == 1 { return q }
        return q - 1
    }
}

/// The byte-level pre-tokenizer and BPE model run together over one segment of text.
struct ByteLevelBPEPipeline: Sendable {
    /// Keeps the model's memory alive; encoding uses `model`, which has no reference count.
    let owner: BytePairEncoding
    let model: BytePairEncoding.View
    /// Prepend a space to every segment that does not start with one (ByteLevel's option).
    let addPrefixSpace: Bool
    /// RobertaProcessing's `trim_offsets`: token offsets leave out leading/trailing spaces.
    let trimOffsets: Bool
    /// RobertaProcessing's `add_prefix_space`: the first token keeps one leading space.
    let trimKeepsPrefixSpace: Bool

    init(model: BytePairEncoding, addPrefixSpace: Bool, trimOffsets: Bool, trimKeepsPrefixSpace: Bool) {
        owner = model
        self.model = model.view
        self.addPrefixSpace = addPrefixSpace
        self.trimOffsets = trimOffsets
        self.trimKeepsPrefixSpace = trimKeepsPrefixSpace
    }

    func encode(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, scalarStart: Int,
                scratch: inout ByteLevel.Scratch, into sink: inout TokenSink) {
        // The segment's bytes, and each byte's original scalar index (for offsets).
        scratch.bytes.removeAll(keepingCapacity: true)
        scratch.byteCharacter.removeAll(keepingCapacity: true)
        if addPrefixSpace && bytes[start] != 0x20 {
            // HF aligns the added space with the segment's first character.
            scratch.bytes.append(0x20)
            scratch.byteCharacter.append(Int32(scalarStart))
        }
        var scalarIndex = scalarStart - 1
        for k in start..<end {
            let byte = bytes[k]
            if byte & 0xC0 != 0x80 { scalarIndex += 1 }
            scratch.bytes.append(byte)
            scratch.byteCharacter.append(Int32(scalarIndex))
        }
        var bpeScratch = scratch.bpe
        defer { scratch.bpe = bpeScratch }
        let segmentBytes = scratch.bytes
        let byteCharacter = scratch.byteCharacter
        segmentBytes.withUnsafeBufferPointer { segment in
            let base = segment.baseAddress!
            ByteLevel.split(base, count: segment.count, scratch: &scratch) { pieceStart, pieceEnd in
                model.tokenize(base, from: pieceStart, to: pieceEnd, scratch: &bpeScratch) { id, a, b in
                    var tokenStart = Int(byteCharacter[a])
                    var tokenEnd = Int(byteCharacter[b - 1]) + 1
                    if trimOffsets {
                        trim(base, a, b, isFirst: sink.ids.isEmpty || tokenStart == 0, &tokenStart, &tokenEnd)
                    }
                    sink.append(id, tokenStart, tokenEnd)
                }
            }
        }
    }

    /// HF's byte_level `process_offsets`: skip the token's leading spaces (except the one
    /// added as prefix space on the first token) and trailing spaces.
    @inline(__always)
    private func trim(_ bytes: UnsafePointer<UInt8>, _ a: Int, _ b: Int, isFirst: Bool,
                      _ start: inout Int, _ end: inout Int) {
        var leading = 0
        while a + leading < b && bytes[a + leading] == 0x20 { leading += 1 }
        if leading == 0 && bytes[b - 1] != 0x20 { return }
        var trailing = 0
        while b - 1 - trailing >= a && bytes[b - 1 - trailing] == 0x20 { trailing += 1 }
        if leading > 0 {
            if isFirst && trimKeepsPrefixSpace && leading == 1 { leading = 0 }
            start = min(start + leading, end)
        }
        if trailing > 0 && end >= trailing { end = max(end - trailing, start) }
    }
}
