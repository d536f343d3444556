/// Cuts a tokenized dataset into minibatches for one epoch.
///
/// The order of epoch e depends only on (seed, e): a run resumed at epoch e, step s replays
/// the same batches and skips the first s, and two runs with the same seed see the same data.
public struct Batcher: Sendable {
    public let data: TokenizedDataset
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    /// Groups sequences of similar length into the same batch (a "sortish" order).
    /// Batches are padding-free either way, but attention runs per sequence across the threads:
    /// sequences of similar length split evenly, and one long review no longer holds up a batch
    /// of short ones. Batches of short and long sequences still alternate at random.
    public let bucketByLength: Bool
    /// Drop a final batch smaller than batchSize (keeps every step's gradient scale equal).
    public let dropLast: Bool

    public init(data: TokenizedDataset, batchSize: Int, seed: UInt64, shuffle: Bool = true,
                bucketByLength: Bool = false, dropLast: Bool = false) throws {
        guard batchSize > 0 else { throw TrainingDataError(.invalidOption, "the batch size must be positive (got \(batchSize))") }
        guard data.count > 0, !(dropLast && data.count < batchSize) else {
            throw TrainingDataError(.notEnoughData, "\(data.count) examples make no batch of \(batchSize)")
        }
        self.data = data
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.bucketByLength = bucketByLength
        self.dropLast = dropLast
    }

    public var batchesPerEpoch: Int { dropLast ? data.count / batchSize : (data.count + batchSize - 1) / batchSize }

    /// How many batches of similar length are sorted together when bucketing: large enough to
    /// group lengths well, small enough that the epoch stays well mixed.
    static let bucketWindowBatches = 50

    /// The example indices of every batch of `epoch`, in order.
    public func indexBatches(epoch: Int) -> [[Int]] {
        var order = Array(0..<data.count)
        var generator = SeededGenerator.derived(seed: seed, stream: 0x1000 + UInt64(epoch))
        if shuffle { generator.shuffle(&order) }
        var batches: [[Int]] = []
        if bucketByLength {
            // Windows are whole batches, so only the final batch can be short.
            let window = batchSize * Self.bucketWindowBatches
            var sorted: [Int] = []
            for start in stride(from: 0, to: order.count, by: window) {
                // Sort by length within the window; ties keep the shuffled order (stable).
                sorted += order[start..<min(start + window, order.count)].enumerated()
                    .sorted { (data.ids[$0.element].count, $0.offset) < (data.ids[$1.element].count, $1.offset) }
                    .map(\.element)
            }
            batches = chunks(sorted)
            if shuffle { generator.shuffle(&batches) }
            // The short batch (if any) goes last, so dropLast removes just it.
            if let short = batches.firstIndex(where: { $0.count < batchSize }) { batches.append(batches.remove(at: short)) }
        } else {
            batches = chunks(order)
        }
        if dropLast, let last = batches.last, last.count < batchSize { batches.removeLast() }
        return batches
    }

    /// The minibatches of `epoch`, built as they are consumed.
    public func batches(epoch: Int) -> LazyMapSequence<[[Int]], MiniBatch> {
        indexBatches(epoch: epoch).lazy.map { data.batch($0) }
    }

    private func chunks(_ indices: [Int]) -> [[Int]] {
        stride(from: 0, to: indices.count, by: batchSize).map { Array(indices[$0..<min($0 + batchSize, indices.count)]) }
    }
}
