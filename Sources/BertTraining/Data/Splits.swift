/// A small seeded generator (SplitMix64): the same seed gives the same shuffles and splits on
/// every platform, which `SystemRandomNumberGenerator` cannot. Its whole state is one UInt64,
/// so a resumed run restores it exactly (trainer_state.json).
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for one purpose (split, epoch k's order, …) derived from a run's seed, so
    /// that drawing more numbers for one purpose never shifts another.
    public static func derived(seed: UInt64, stream: UInt64) -> SeededGenerator {
        var g = SeededGenerator(seed: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        _ = g.next()
        return g
    }

    /// Fisher–Yates with this generator's own draws: unlike `Array.shuffle(using:)`, whose
    /// algorithm the standard library may change, the order depends on nothing but the seed.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            array.swapAt(i, j)
        }
    }
}

/// The indices of a training part and a validation part of one dataset.
public struct SplitIndices: Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
}

public enum Splits {
    /// Carves `fraction` of the examples out as validation, class by class, so each class keeps
    /// its share (as sklearn's train_test_split with stratify=). Both parts are in file order.
    public static func stratified(labels: [Int], classes: Int, fraction: Double, seed: UInt64) throws -> SplitIndices {
        guard fraction > 0, fraction < 1 else {
            throw TrainingDataError(.invalidOption, "the validation fraction must be between 0 and 1 (got \(fraction))")
        }
        let byClass = shuffledByClass(labels: labels, classes: classes, seed: seed, stream: 1)
        let total = max(1, Int((Double(labels.count) * fraction).rounded()))
        guard total < labels.count else {
            throw TrainingDataError(.notEnoughData, "\(labels.count) examples are too few to carve out a validation split of \(fraction)")
        }
        // Largest-remainder apportionment: every class gets floor(n_c·f), the examples left over
        // go to the classes with the largest fractional parts, so the total is exact.
        let exact = byClass.map { Double($0.count) * Double(total) / Double(labels.count) }
        var quota = exact.map { Int($0) }
        let order = exact.indices.sorted { (exact[$0] - Double(quota[$0]), -$0) > (exact[$1] - Double(quota[$1]), -$1) }
        var left = total - quota.reduce(0, +)
        for c in order where left > 0 && quota[c] < byClass[c].count { quota[c] += 1; left -= 1 }
        var validation: [Int] = []
        for (c, members) in byClass.enumerated() {
            // A class with two or more examples keeps at least one for training.
            let take = members.count >= 2 ? min(quota[c], members.count - 1) : quota[c]
            validation += members.prefix(take)
        }
        let held = Set(validation)
        return SplitIndices(train: labels.indices.filter { !held.contains($0) }, validation: validation.sorted())
    }

    /// k stratified folds (as sklearn's StratifiedKFold(shuffle=True)): each example is in
    /// exactly one fold's validation part, and every fold has each class in proportion.
    public static func stratifiedKFold(labels: [Int], classes: Int, folds k: Int, seed: UInt64) throws -> [SplitIndices] {
        guard k >= 2 else { throw TrainingDataError(.invalidOption, "k-fold needs at least 2 folds (got \(k))") }
        guard labels.count >= k else {
            throw TrainingDataError(.notEnoughData, "\(labels.count) examples cannot make \(k) folds")
        }
        var foldOf = [Int](repeating: 0, count: labels.count)
        // Deal each class's shuffled members round-robin, continuing the count across classes
        // so fold sizes differ by at most one.
        var next = 0
        for members in shuffledByClass(labels: labels, classes: classes, seed: seed, stream: 2) {
            for index in members { foldOf[index] = next % k; next += 1 }
        }
        return (0..<k).map { fold in
            SplitIndices(train: labels.indices.filter { foldOf[$0] != fold }, validation: labels.indices.filter { foldOf[$0] == fold })
        }
    }

    /// The indices of each class, each list shuffled with the seed.
    private static func shuffledByClass(labels: [Int], classes: Int, seed: UInt64, stream: UInt64) -> [[Int]] {
        var byClass = [[Int]](repeating: [], count: classes)
        for (i, y) in labels.enumerated() { byClass[y].append(i) }
        var generator = SeededGenerator.derived(seed: seed, stream: stream)
        for c in byClass.indices { generator.shuffle(&byClass[c]) }
        return byClass
    }
}
