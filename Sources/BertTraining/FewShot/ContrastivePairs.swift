/// One sentence pair of contrastive training: two training texts (by index) and whether they
/// share a class (target 1) or not (target 0).
public struct ContrastivePair: Sendable, Equatable {
    public var first: Int
    public var second: Int
    public var target: Float
}

/// SetFit's pairs (setfit/sampler.py `ContrastiveDataset`, single-label): every unordered pair
/// of training texts, a text with itself included (`shuffle_combinations` with replacement), in
/// a seeded shuffled order, split into positives (same class) and negatives; then
/// - `iterations` nil ("oversampling", SetFit 1.x's default): both kinds cycled to the size of
///   the larger;
/// - `iterations` k (`num_iterations`): both kinds cycled to k × the number of texts;
/// and interleaved positive, negative, positive, … The same labels and seed give the same pairs.
public enum ContrastivePairs {
    /// Texts past this many make the all-pairs list too long (n(n+1)/2 pairs): the caller
    /// should give `iterations`.
    public static let allPairsLimit = 4096

    public static func build(labels: [Int], seed: UInt64, iterations: Int? = nil) throws -> [ContrastivePair] {
        let n = labels.count
        guard n >= 2 else { throw TrainingDataError(.notEnoughData, "few-shot training needs at least two examples (got \(n))") }
        guard Set(labels).count >= 2 else {
            throw TrainingDataError(.notEnoughData, "few-shot training needs examples of at least two classes: every pair would be positive")
        }
        if let iterations, iterations < 1 { throw TrainingDataError(.invalidOption, "pair_iterations must be at least 1 (got \(iterations))") }
        guard iterations != nil || n <= allPairsLimit else {
            throw TrainingDataError(.invalidOption, "\(n) texts make \(n * (n + 1) / 2) pairs: few-shot is for few examples; give pair_iterations (e.g. 20) to sample pairs instead")
        }
        var pairs: [(Int, Int)] = []
        pairs.reserveCapacity(n * (n + 1) / 2)
        for i in 0..<n { for j in i..<n { pairs.append((i, j)) } }
        var generator = SeededGenerator.derived(seed: seed, stream: 0x5E7F17)
        generator.shuffle(&pairs)
        let positives = pairs.filter { labels[$0.0] == labels[$0.1] }
        let negatives = pairs.filter { labels[$0.0] != labels[$0.1] }
        let each = iterations.map { $0 * n } ?? max(positives.count, negatives.count)
        var out: [ContrastivePair] = []
        out.reserveCapacity(2 * each)
        for k in 0..<each {
            let p = positives[k % positives.count], q = negatives[k % negatives.count]
            out.append(ContrastivePair(first: p.0, second: p.1, target: 1))
            out.append(ContrastivePair(first: q.0, second: q.1, target: 0))
        }
        return out
    }
}
