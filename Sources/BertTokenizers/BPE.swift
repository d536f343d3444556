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

    /// The id of a byte's byte-level character (-1 if missing).
    func byteId(_ byte: UInt8) -> Int32 { byteIds[Int(byte)] }

    /// The model's memory without the owning object: the encoding loops use this, so threads
    /// sharing a tokenizer never touch a shared reference count. Valid while `self` is alive.
    var view: View { View(byteIds: byteIds, merges: merges, unknownId: unknownId ?? -1) }

    struct Scratch {
        var ids: [Int32] = []
        var starts: [Int32] = []
        /// For the pair (k, k+1): its merge rank (Int32.max if none) and merged id.
        var ranks: [Int32] = []
        var mergedIds: [Int32] = []
    }

    struct View: @unchecked Sendable {
        fileprivate let byteIds: UnsafeMutablePointer<Int32>
        fileprivate let merges: MergeTable.View
        /// -1: none.
        fileprivate let unknownId: Int32

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
                } else if unknownId >= 0 {
                    // HF (without fuse_unk) emits one unknown token per missing character.
                    scratch.ids.append(unknownId)
                    scratch.starts.append(Int32(k))
                } // else: HF drops a character it cannot map when there is no unknown token.
            }
            var n = scratch.ids.count
            if n == 0 { return }
            if n > 1 {
                if n <= View.scanLimit { mergeByScan(&scratch) } else { mergeByQueue(&scratch) }
                n = scratch.ids.count
            }
            for k in 0..<n {
                let tokenEnd = k + 1 < n ? Int(scratch.starts[k + 1]) : end
                token(scratch.ids[k], Int(scratch.starts[k]), tokenEnd)
            }
        }

        /// Up to this many symbols, rescanning the pair ranks beats maintaining a priority queue;
        /// longer pieces (a run of 10,000 letters) use the queue, so time stays O(n log n).
        static let scanLimit = 48

        /// Repeatedly merges the lowest-ranked adjacent pair, leftmost first: the order HF's
        /// priority queue of (rank, position) produces.
        @inline(__always)
        func mergeByScan(_ scratch: inout Scratch) {
            var n = scratch.ids.count
            scratch.ranks.removeAll(keepingCapacity: true)
            scratch.mergedIds.removeAll(keepingCapacity: true)
            for k in 0..<(n - 1) {
                let (rank, merged) = merges.merge(scratch.ids[k], scratch.ids[k + 1])
                scratch.ranks.append(rank)
                scratch.mergedIds.append(merged)
            }
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

        @inline(__always)
        private func updatePair(_ k: Int, _ scratch: inout Scratch) {
            let (rank, merged) = merges.merge(scratch.ids[k], scratch.ids[k + 1])
            scratch.ranks[k] = rank
            scratch.mergedIds[k] = merged
        }

        /// The same merges with a linked list of symbols and a min-heap of (rank, position), as
        /// HF's `Word::merge_all`. A popped entry is stale when its position was merged away or
        /// now holds a different pair (each rank belongs to exactly one pair).
        func mergeByQueue(_ scratch: inout Scratch) {
            let n = scratch.ids.count
            var next = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
                for k in 0..<n { buffer[k] = k + 1 < n ? Int32(k + 1) : -1 }
                count = n
            }
            var previous = (0..<n).map { Int32($0) - 1 }
            var alive = [Bool](repeating: true, count: n)
            var heap = MinHeap()
            for k in 0..<(n - 1) {
                let (rank, _) = merges.merge(scratch.ids[k], scratch.ids[k + 1])
                if rank != Int32.max { heap.push(rank: rank, position: k) }
            }
            while let (rank, position) = heap.pop() {
                guard alive[position], next[position] >= 0 else { continue }
                let right = Int(next[position])
                let (currentRank, merged) = merges.merge(scratch.ids[position], scratch.ids[right])
                guard currentRank == rank else { continue }
                scratch.ids[position] = merged
                alive[right] = false
                next[position] = next[right]
                if next[right] >= 0 { previous[Int(next[right])] = Int32(position) }
                if previous[position] >= 0 {
                    let left = Int(previous[position])
                    let (leftRank, _) = merges.merge(scratch.ids[left], merged)
                    if leftRank != Int32.max { heap.push(rank: leftRank, position: left) }
                }
                if next[position] >= 0 {
                    let (rightRank, _) = merges.merge(merged, scratch.ids[Int(next[position])])
                    if rightRank != Int32.max { heap.push(rank: rightRank, position: position) }
                }
            }
            var kept = 0
            for k in 0..<n where alive[k] {
                scratch.ids[kept] = scratch.ids[k]
                scratch.starts[kept] = scratch.starts[k]
                kept += 1
            }
            scratch.ids.removeSubrange(kept...)
            scratch.starts.removeSubrange(kept...)
        }
    }
}

/// A binary min-heap of (rank, position), ordered by rank then position.
private struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(rank: Int32, position: Int) {
        items.append(UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(position))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> (rank: Int32, position: Int)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count && items[left] < items[smallest] { smallest = left }
                if right < items.count && items[right] < items[smallest] { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return (Int32(truncatingIfNeeded: top >> 32), Int(truncatingIfNeeded: top & 0xFFFF_FFFF))
    }
}
