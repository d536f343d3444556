import BertCore
import BertTokenizers
import Foundation

/// A labelled dataset as token ids, tokenized once: every epoch (and every fold of k-fold, via
/// `subset`) batches from these arrays instead of running the tokenizer again.
public struct TokenizedDataset: Sendable {
    public let ids: [[Int32]]
    public let typeIds: [[Int32]]
    public let labels: [Int]
    /// Whether each sequence was cut to the maximum length.
    public let truncated: [Bool]
    /// The task and its targets beyond class ids: label sets (multi-label) or values (regression).
    public var task: Task = .singleLabel
    public var labelSets: [[Int]] = []
    public var values: [Float] = []
    public var outputs = 0

    public var truncatedSequences: Int { truncated.lazy.filter { $0 }.count }

    public var count: Int { labels.count }
    public var totalTokens: Int { ids.reduce(0) { $0 + $1.count } }

    public init(ids: [[Int32]], typeIds: [[Int32]], labels: [Int], truncated: [Bool]? = nil) {
        precondition(ids.count == labels.count && typeIds.count == labels.count, "one id list, type list and label per example")
        self.ids = ids
        self.typeIds = typeIds
        self.labels = labels
        self.truncated = truncated ?? [Bool](repeating: false, count: labels.count)
    }

    /// Tokenizes every example (text, or text pair) with the special tokens, truncated to
    /// `maxLength` tokens (pairs longest-first, as HF's tokenizers). The tokenizer is
    /// thread-safe; `threads` > 1 splits the examples across that many threads.
    public init(_ data: LabelledDataset, tokenizer: Tokenizer, maxLength: Int, threads: Int = 1) {
        let examples = data.examples
        let n = examples.count
        var encoded = [Encoding?](repeating: nil, count: n)
        let parts = max(1, min(threads, n / 64 + 1))
        encoded.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }  // no examples
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for i in stride(from: part, to: n, by: parts) {
                    (base + i).pointee = tokenizer.encode(examples[i].text, pair: examples[i].pair, maxLength: maxLength)
                }
            }
        }
        self.init(ids: encoded.map { $0!.ids }, typeIds: encoded.map { $0!.typeIds }, labels: data.labels,
                  truncated: encoded.map { $0!.truncatedTokenCount > 0 })
        task = data.task
        labelSets = data.labelSets
        values = data.values
        outputs = data.labelSet.count
    }

    public func subset(_ indices: [Int]) -> TokenizedDataset {
        var part = TokenizedDataset(ids: indices.map { ids[$0] }, typeIds: indices.map { typeIds[$0] }, labels: indices.map { labels[$0] },
                                    truncated: indices.map { truncated[$0] })
        (part.task, part.outputs) = (task, outputs)
        if task == .multiLabel { part.labelSets = indices.map { labelSets[$0] } }
        if task == .regression { part.values = indices.map { values[$0] } }
        return part
    }

    /// The padding-free batch of the examples at `indices`, and their labels and targets.
    public func batch(_ indices: [Int]) -> MiniBatch {
        var tokens = TokenBatch()
        for i in indices { tokens.append(ids: ids[i], typeIds: typeIds[i]) }
        return MiniBatch(tokens: tokens, labels: indices.map { labels[$0] }, indices: indices, targets: targets(indices))
    }

    /// Multi-label: per example, whether each of the `outputs` labels is in its set (N, C).
    public var labelSetTruth: [[Bool]] {
        labelSets.map { set in (0..<outputs).map { set.contains($0) } }
    }

    /// The training targets of these examples.
    public func targets(_ indices: [Int]) -> TrainingTargets {
        switch task {
        case .singleLabel: return .classes(indices.map { labels[$0] })
        case .multiLabel:
            var rows = [Float](repeating: 0, count: indices.count * outputs)
            for (r, i) in indices.enumerated() { for y in labelSets[i] { rows[r * outputs + y] = 1 } }
            return .labelSets(rows)
        case .regression: return .values(indices.map { values[$0] })
        }
    }

    /// Token statistics for the report.
    public func record(into statistics: inout DataStatistics) {
        statistics.meanTokens = count == 0 ? 0 : Double(totalTokens) / Double(count)
        statistics.maxTokens = ids.map(\.count).max() ?? 0
        statistics.truncatedSequences = truncatedSequences
    }
}

/// One minibatch: the concatenated tokens, a label per sequence, and which examples they are.
public struct MiniBatch: Sendable {
    public var tokens: TokenBatch
    public var labels: [Int]
    public var indices: [Int]
    public var targets: TrainingTargets
}
