/// How a document's logits come from its windows' logits.
public enum WindowAggregation: String, Sendable, CaseIterable {
    /// The mean of the windows' logits.
    case mean
    /// Per output, the largest logit of any window (a label one window is sure of wins).
    case max
    /// The mean weighted by each window's token count: a short last window counts less
    /// (attention-free: the weights come from the lengths, not from the model).
    case weighted
}

/// The windows of the documents of a batch: document d owns the next `counts[d]` sequences,
/// and `tokens[s]` is sequence s's length (the `weighted` mean's weights).
public struct WindowGroups: Sendable, Equatable {
    public var counts: [Int]
    public var tokens: [Int]

    public init(counts: [Int], tokens: [Int]) {
        precondition(counts.reduce(0, +) == tokens.count, "one token count per window")
        self.counts = counts
        self.tokens = tokens
    }

    public var documents: Int { counts.count }
    public var windows: Int { tokens.count }

    /// Per document, the weight of each of its windows (summing to 1).
    public func weights(_ aggregation: WindowAggregation) -> [Float] {
        var out = [Float](repeating: 0, count: windows)
        var s = 0
        for n in counts {
            let total = tokens[s..<(s + n)].reduce(0, +)
            for k in s..<(s + n) {
                out[k] = aggregation == .weighted && total > 0 ? Float(tokens[k]) / Float(total) : 1 / Float(n)
            }
            s += n
        }
        return out
    }
}

/// Forward: rows (S, C) → out (D, C), with S windows grouped into D documents.
public func windowAggregationForward(out: UnsafeMutablePointer<Float>, rows: UnsafePointer<Float>, groups: WindowGroups,
                                     classes c: Int, aggregation: WindowAggregation) {
    let weights = groups.weights(aggregation)
    var s = 0
    for (d, n) in groups.counts.enumerated() {
        let o = out + d * c
        for j in 0..<c {
            var acc: Float = aggregation == .max ? -.infinity : 0
            for k in s..<(s + n) {
                let v = rows[k * c + j]
                if aggregation == .max { acc = Swift.max(acc, v) } else { acc += weights[k] * v }
            }
            o[j] = n == 0 ? 0 : acc
        }
        s += n
    }
}

/// Backward: dOut (D, C) → dRows (S, C), overwritten. The mean spreads each gradient over the
/// windows by their weights; max sends it to the window that held the maximum (the first one
/// on ties, as torch's `max` picks a single index).
public func windowAggregationBackward(dRows: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, rows: UnsafePointer<Float>,
                                      groups: WindowGroups, classes c: Int, aggregation: WindowAggregation) {
    let weights = groups.weights(aggregation)
    var s = 0
    for (d, n) in groups.counts.enumerated() {
        for j in 0..<c {
            let g = dOut[d * c + j]
            if aggregation == .max {
                var best = s
                for k in s..<(s + n) where rows[k * c + j] > rows[best * c + j] { best = k }
                for k in s..<(s + n) { dRows[k * c + j] = k == best ? g : 0 }
            } else {
                for k in s..<(s + n) { dRows[k * c + j] = weights[k] * g }
            }
        }
        s += n
    }
}

/// The documents' logits from their windows' rows, as arrays (inference).
public func aggregateWindows(_ rows: [[Float]], groups: WindowGroups, aggregation: WindowAggregation) -> [[Float]] {
    let c = rows.first?.count ?? 0
    let flat = rows.flatMap { $0 }
    var out = [Float](repeating: 0, count: groups.documents * c)
    flat.withUnsafeBufferPointer { r in
        out.withUnsafeMutableBufferPointer { o in
            guard let rb = r.baseAddress, let ob = o.baseAddress else { return }
            windowAggregationForward(out: ob, rows: rb, groups: groups, classes: c, aggregation: aggregation)
        }
    }
    return (0..<groups.documents).map { Array(out[($0 * c)..<(($0 + 1) * c)]) }
}
