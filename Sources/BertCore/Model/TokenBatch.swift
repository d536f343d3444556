/// A padding-free batch: the tokens of every sequence, concatenated.
/// Sequence s spans tokens sequenceStarts[s]..<sequenceStarts[s+1]; nothing is padding.
public struct TokenBatch: Sendable {
    public private(set) var ids: [Int32] = []
    public private(set) var typeIds: [Int32] = []
    public private(set) var sequenceStarts: [Int] = [0]

    public init() {}

    public init(sequences: [[Int32]], typeIds: [[Int32]]? = nil) {
        for (i, ids) in sequences.enumerated() { append(ids: ids, typeIds: typeIds?[i]) }
    }

    public var count: Int { sequenceStarts.count - 1 }
    public var tokenCount: Int { ids.count }
    public var longestSequence: Int { (0..<count).map { length(of: $0) }.max() ?? 0 }

    public func length(of sequence: Int) -> Int { sequenceStarts[sequence + 1] - sequenceStarts[sequence] }

    /// Adds one sequence; typeIds default to all zeros.
    public mutating func append(ids newIds: [Int32], typeIds newTypes: [Int32]? = nil) {
        precondition(newTypes == nil || newTypes!.count == newIds.count, "typeIds must match ids")
        ids.append(contentsOf: newIds)
        if let newTypes { typeIds.append(contentsOf: newTypes) } else { typeIds.append(contentsOf: repeatElement(0, count: newIds.count)) }
        sequenceStarts.append(ids.count)
    }

    public mutating func removeAll() {
        ids.removeAll(keepingCapacity: true)
        typeIds.removeAll(keepingCapacity: true)
        sequenceStarts.removeAll(keepingCapacity: true)
        sequenceStarts.append(0)
    }
}
