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
    /// Long documents: per example, the lengths of the windows its `ids` are the concatenation
    /// of (empty: no windows, `ids` is one sequence), and how their logits combine.
    public var windowLengths: [[Int]] = []
    public var windowPolicy: LongDocumentPolicy?

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

    /// Tokenizes every example into the overlapping windows of `policy` (one when it fits), so
    /// that training and evaluation see whole documents. Throws for a pair text that leaves no
    /// room for windows, naming its line.
    public init(_ data: LabelledDataset, tokenizer: Tokenizer, windows policy: LongDocumentPolicy, threads: Int = 1) throws {
        let examples = data.examples
        let n = examples.count
        var encoded = [[Encoding]?](repeating: nil, count: n)
        let parts = max(1, min(threads, n / 64 + 1))
        encoded.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for i in stride(from: part, to: n, by: parts) {
                    (base + i).pointee = tokenizer.encodeWindows(examples[i].text, pair: examples[i].pair,
                                                                 maxLength: policy.window, overlap: policy.overlap)
                }
            }
        }
        if let bad = encoded.firstIndex(where: { $0 == nil }) {
            throw TrainingDataError(.invalidOption, "\(data.dataset.source):\(examples[bad].line): the pair text leaves no room for windows of \(policy.window) tokens with an overlap of \(policy.overlap)")
        }
        let windows = encoded.map { $0! }
        self.init(ids: windows.map { $0.flatMap(\.ids) }, typeIds: windows.map { $0.flatMap(\.typeIds) }, labels: data.labels)
        windowLengths = windows.map { $0.map(\.ids.count) }
        windowPolicy = policy
        task = data.task
        labelSets = data.labelSets
        values = data.values
        outputs = data.labelSet.count
    }

    /// Sequences the examples make: one each, or their windows.
    public var sequenceCount: Int { windowLengths.isEmpty ? count : windowLengths.reduce(0) { $0 + $1.count } }

    public func subset(_ indices: [Int]) -> TokenizedDataset {
        var part = TokenizedDataset(ids: indices.map { ids[$0] }, typeIds: indices.map { typeIds[$0] }, labels: indices.map { labels[$0] },
                                    truncated: indices.map { truncated[$0] })
        (part.task, part.outputs, part.windowPolicy) = (task, outputs, windowPolicy)
        if !windowLengths.isEmpty { part.windowLengths = indices.map { windowLengths[$0] } }
        if task == .multiLabel { part.labelSets = indices.map { labelSets[$0] } }
        if task == .regression { part.values = indices.map { values[$0] } }
        return part
    }

    /// The padding-free batch of the examples at `indices`, and their labels and targets.
    /// With windows, every window is a sequence of its own and `windows` groups them by example.
    public func batch(_ indices: [Int]) -> MiniBatch {
        var tokens = TokenBatch()
        guard !windowLengths.isEmpty, let policy = windowPolicy else {
            for i in indices { tokens.append(ids: ids[i], typeIds: typeIds[i]) }
            return MiniBatch(tokens: tokens, labels: indices.map { labels[$0] }, indices: indices, targets: targets(indices))
        }
        for i in indices {
            var start = 0
            for length in windowLengths[i] {
                tokens.append(ids: Array(ids[i][start..<(start + length)]), typeIds: Array(typeIds[i][start..<(start + length)]))
                start += length
            }
        }
        let groups = WindowGroups(counts: indices.map { windowLengths[$0].count }, tokens: indices.flatMap { windowLengths[$0] })
        return MiniBatch(tokens: tokens, labels: indices.map { labels[$0] }, indices: indices, targets: targets(indices),
                         windows: groups, aggregation: policy.aggregation)
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
        if !windowLengths.isEmpty { statistics.meanWindows = count == 0 ? 0 : Double(sequenceCount) / Double(count) }
    }
}

/// One minibatch: the concatenated tokens, a label per sequence, and which examples they are.
public struct MiniBatch: Sendable {
    public var tokens: TokenBatch
    public var labels: [Int]
    public var indices: [Int]
    public var targets: TrainingTargets
    /// Long documents: which sequences are whose windows (nil: one sequence per example).
    public var windows: WindowGroups?
    public var aggregation: WindowAggregation = .mean
}
