/// The classes of a classifier in id order: id i is `names[i]`, as config.json's id2label.
public struct LabelSet: Sendable, Equatable, Codable {
    public let names: [String]
    private let ids: [String: Int]

    public var count: Int { names.count }

    /// A label set given up front (e.g. `--labels neg,neu,pos`, or a model's id2label).
    public init(names: [String]) throws {
        var ids: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            guard ids[name] == nil else { throw TrainingDataError(.invalidOption, "the label \"\(name)\" is listed twice") }
            ids[name] = i
        }
        guard names.count >= 2 else {
            throw TrainingDataError(.notEnoughData, "a classifier needs at least two labels (got \(names.map { "\"\($0)\"" }.joined(separator: ", ")))")
        }
        self.names = names
        self.ids = ids
    }

    /// The labels that occur in the data, sorted: numerically when every label is an integer
    /// (so 0, 1, …, 10 keep their ids, as HF datasets' ClassLabel does), else by string.
    public init(inferredFrom datasets: [Dataset]) throws {
        let distinct = Set(datasets.flatMap { $0.examples.map(\.label) })
        let integers = distinct.compactMap { Int($0) }
        let sorted = integers.count == distinct.count
            ? integers.sorted().map(String.init)
            : distinct.sorted()
        try self.init(names: sorted)
    }

    public func id(of label: String) -> Int? { ids[label] }

    private enum CodingKeys: String, CodingKey { case names }
    public init(from decoder: Decoder) throws {
        try self.init(names: try decoder.container(keyedBy: CodingKeys.self).decode([String].self, forKey: .names))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(names, forKey: .names)
    }
}

/// A dataset whose labels are ids of a `LabelSet`.
public struct LabelledDataset: Sendable {
    public var dataset: Dataset
    /// labels[i] is the id of dataset.examples[i].
    public var labels: [Int]
    public let labelSet: LabelSet

    public var count: Int { labels.count }
    public var examples: [Example] { dataset.examples }

    /// Examples per class, in id order.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: labelSet.count)
        for y in labels { counts[y] += 1 }
        return counts
    }

    public func subset(_ indices: [Int]) -> LabelledDataset {
        LabelledDataset(dataset: dataset.subset(indices), labels: indices.map { labels[$0] }, labelSet: labelSet)
    }
}

extension Dataset {
    /// Maps every label to its id. A label outside the set is an `unknown_label` error naming
    /// the file and line, or (with `skipBadRows`) a skipped row counted in `skippedRows`.
    public func labelled(with labelSet: LabelSet, skipBadRows: Bool = false) throws -> LabelledDataset {
        var kept = self
        kept.examples = []
        var ids: [Int] = []
        for example in examples {
            if let id = labelSet.id(of: example.label) {
                kept.examples.append(example)
                ids.append(id)
                continue
            }
            let error = TrainingDataError.row(.unknownLabel, file: source, line: example.line,
                "the label \"\(example.label)\" is not one of \(labelSet.names.map { "\"\($0)\"" }.joined(separator: ", "))")
            guard skipBadRows else { throw error }
            kept.skippedRows += 1
            if kept.skippedReasons.count < 10 { kept.skippedReasons.append(error.message) }
        }
        guard !ids.isEmpty else { throw TrainingDataError(.notEnoughData, "\(source): no row has a known label") }
        return LabelledDataset(dataset: kept, labels: ids, labelSet: labelSet)
    }
}
