/// Embeddings of zero-shot label texts, so a label is embedded once, not with every request.
/// Bounded: clients choose the labels, so past `capacity` the least recently used half is
/// evicted (amortised O(1) per use). I/O thread only.
struct LabelEmbeddingCache {
    let capacity: Int
    private var entries: [String: (vector: [Float], lastUse: Int)] = [:]
    private var clock = 0

    init(capacity: Int = 2048) { self.capacity = capacity }

    var count: Int { entries.count }

    mutating func lookup(_ label: String) -> [Float]? {
        guard let entry = entries[label] else { return nil }
        clock += 1
        entries[label] = (entry.vector, clock)
        return entry.vector
    }

    mutating func insert(_ label: String, _ vector: [Float]) {
        clock += 1
        entries[label] = (vector, clock)
        if entries.count > capacity {
            let cutoff = entries.values.map(\.lastUse).sorted()[entries.count / 2]
            entries = entries.filter { $0.value.lastUse >= cutoff }
        }
    }
}
