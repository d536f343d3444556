/// Byte-level BPE as RoBERTa uses it: HF's
/// https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/models/bpe/model.rs
/// Symbols are token ids from the start (one per byte), and a merge turns a pair of ids into
/// the merged token's id, so no strings are built while encoding.
final class BytePairEncoding: @unchecked Sendable {  // immutable after init
    /// The id of each byte's byte-level character, or -1 when vocab.json lacks it.
    private let byteIds: UnsafeMutablePointer<Int32>
    private let mergeTable: MergeTable
    /// `mergeTable`'s memory, for the hot loop: no reference counting on shared objects.
    private let merges: MergeTable.View
    private let unknownId: Int32?

    /// `merges` are (left, right) token strings in rank order.
    init(vocabulary: ByteStringTable, merges: [(String, String)], unknownToken: String?) throws {
        byteIds = .allocate(capacity: 256)
        for (byte, character) in ByteLevel.byteToCharacter.enumerated() { byteIds[byte] = vocabulary.lookup(String(character)) }
        var entries: [(left: Int32, right: Int32, rank: Int32, merged: Int32)] = []
        entries.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            let leftId = vocabulary.lookup(left), rightId = vocabulary.lookup(right)
            let mergedId = vocabulary.lookup(left + right)
            guard leftId >= 0, rightId >= 0, mergedId >= 0 else {
                throw TokenizerError.invalidFile("merges", reason: "merge \"\(left) \(right)\" (rank \(rank)) uses a token missing from the vocabulary")
            }
            entries.append((leftId, rightId, Int32(rank), mergedId))
        }
        mergeTable = MergeTable(entries)
        self.merges = mergeTable.view
        if let unknownToken {
            let id = vocabulary.lookup(unknownToken)
            guard id >= 0 else {
                throw TokenizerError.invalidFile("vocab", reason: "the unknown token \"\(unknownToken)\" is not in the vocabulary")
            }
            unknownId = id
        } else {
            unknownId = nil
        }
    }

    deinit { byteIds.deallocate() }

    struct Scratch {
        var ids: [Int32] = []
        var starts: [Int32] = []
        /// For the pair (k, k+1): its merge rank (Int32.max if none) and merged id.
        var ranks: [Int32] = []
        var mergedIds: [Int32] = []
    }

    /// Encodes one pre-token `bytes[start..<end]`, calling `token(id, byteStart, byteEnd)` for
    /// each resulting token in order.
    @inline(__always)
    func tokenize(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, scratch: inout Scratch,
                  token: (Int32, Int, Int) -> Void) {
        scratch.ids.removeAll(keepingCapacity: true)
        scratch.starts.removeAll(keepingCapacity: true)
        for k in start..<end {
            let id = byteIds[Int(bytes[k])]
            if id >= 0 {
                scratch.ids.append(id)
                scratch.starts.append(Int32(k))
            } else if let unknownId {
                // HF (without fuse_unk) emits one unknown token per missing character.
                scratch.ids.append(unknownId)
                scratch.starts.append(Int32(k))
            } // else: HF drops a character it cannot map when there is no unknown token.
        }
        var n = scratch.ids.count
        if n == 0 { return }
        if n > 1 {
            scratch.ranks.removeAll(keepingCapacity: true)
            scratch.mergedIds.removeAll(keepingCapacity: true)
            for k in 0..<(n - 1) {
                let (rank, merged) = merges.merge(scratch.ids[k], scratch.ids[k + 1])
                scratch.ranks.append(rank)
                scratch.mergedIds.append(merged)
            }
            // Repeatedly merge the lowest-ranked pair, leftmost first: the order HF's priority
            // queue of (rank, position) produces.
            while n > 1 {
                var best = 0
                for k in 1..<(n - 1) where scratch.ranks[k] < scratch.ranks[best] { best = k }
                if scratch.ranks[best] == Int32.max { break }
                scratch.ids[best] = scratch.mergedIds[best]
                scratch.ids.remove(at: best + 1)
                scratch.starts.remove(at: best + 1)
                scratch.ranks.remove(at: best)
                scratch.mergedIds.remove(at: best)
                n -= 1
                if best > 0 { updatePair(best - 1, &scratch) }
                if best < n - 1 { updatePair(best, &scratch) }
            }
        }
        for k in 0..<n {
            let tokenEnd = k + 1 < n ? Int(scratch.starts[k + 1]) : end
            token(scratch.ids[k], Int(scratch.starts[k]), tokenEnd)
        }
    }

    @inline(__always)
    private func updatePair(_ k: Int, _ scratch: inout Scratch) {
        let (rank, merged) = merges.merge(scratch.ids[k], scratch.ids[k + 1])
        scratch.ranks[k] = rank
        scratch.mergedIds[k] = merged
    }
}

/// The byte-level pre-tokenizer and BPE model run together over one segment of text.
struct ByteLevelBPEPipeline: Sendable {
    let model: BytePairEncoding
    /// Prepend a space to every segment that does not start with one (ByteLevel's option).
    let addPrefixSpace: Bool
    /// RobertaProcessing's `trim_offsets`: token offsets leave out leading/trailing spaces.
    let trimOffsets: Bool
    /// RobertaProcessing's `add_prefix_space`: the first token keeps one leading space.
    let trimKeepsPrefixSpace: Bool

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
