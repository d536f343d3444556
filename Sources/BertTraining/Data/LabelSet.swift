/// The classes of a classifier in id order: id i is `names[i]`, as config.json's id2label.
public struct LabelSet: Sendable, Equatable, Codable {
    public let names: [String]
    private let ids: [String: Int]

    public var count: Int { names.count }

    /// A label set given up front (e.g. `--labels neg,neu,pos`, or a model's id2label).
    /// `minimum`: 2 for a classifier; 1 for multi-label (one label still has yes and no) and
    /// regression (the one output).
    public init(names: [String], minimum: Int = 2) throws {
        var ids: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            guard ids[name] == nil else { throw TrainingDataError(.invalidOption, "the label \"\(name)\" is listed twice") }
            ids[name] = i
        }
        guard names.count >= minimum else {
            throw TrainingDataError(.notEnoughData, "a classifier needs at least two labels (got \(names.map { "\"\($0)\"" }.joined(separator: ", ")))")
        }
        self.names = names
        self.ids = ids
    }

    /// The labels that occur in the data, sorted: numerically when every label is an integer
    /// (so 0, 1, …, 10 keep their ids, as HF datasets' ClassLabel does), else by string.
    public init(inferredFrom datasets: [Dataset], separator: String? = nil) throws {
        let labels = datasets.flatMap { $0.examples.map(\.label) }
        let distinct = Set(separator.map { sep in labels.flatMap { Self.split($0, by: sep) } } ?? labels)
        let integers = distinct.compactMap { Int($0) }
        let sorted = integers.count == distinct.count
            ? integers.sorted().map(String.init)
            : distinct.sorted()
        try self.init(names: sorted, minimum: separator == nil ? 2 : 1)
    }

    /// The labels of a multi-label cell: split by the separator, trimmed, empty parts dropped.
    static func split(_ cell: String, by separator: String) -> [String] {
        cell.components(separatedBy: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func id(of label: String) -> Int? { ids[label] }

    private enum CodingKeys: String, CodingKey { case names }
    public init(from decoder: Decoder) throws {
        try self.init(names: try decoder.container(keyedBy: CodingKeys.self).decode([String].self, forKey: .names), minimum: 1)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(names, forKey: .names)
    }
}

/// A dataset whose labels are ids of a `LabelSet`.
public struct LabelledDataset: Sendable {
    public var dataset: Dataset
    /// Single-label: labels[i] is the id of dataset.examples[i] (0 for the other tasks).
    public var labels: [Int]
    public let labelSet: LabelSet
    public var task: Task = .singleLabel
    /// Multi-label: the ids of each example's labels (possibly none).
    public var labelSets: [[Int]] = []
    /// Regression: each example's target.
    public var values: [Float] = []

    public init(dataset: Dataset, labels: [Int], labelSet: LabelSet) {
        self.dataset = dataset
        self.labels = labels
        self.labelSet = labelSet
    }

    public var count: Int { labels.count }
    public var examples: [Example] { dataset.examples }

    /// Examples per class (multi-label: per label), in id order; regression: the count.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: labelSet.count)
        switch task {
        case .singleLabel: for y in labels { counts[y] += 1 }
        case .multiLabel: for set in labelSets { for y in set { counts[y] += 1 } }
        case .regression: counts = [count]
        }
        return counts
    }

    public func subset(_ indices: [Int]) -> LabelledDataset {
        var part = LabelledDataset(dataset: dataset.subset(indices), labels: indices.map { labels[$0] }, labelSet: labelSet)
        part.task = task
        if task == .multiLabel { part.labelSets = indices.map { labelSets[$0] } }
        if task == .regression { part.values = indices.map { values[$0] } }
        return part
    }
}

extension Dataset {
    /// Maps every label to its id. A label outside the set is an `unknown_label` error naming
    /// the file and line, or (with `skipBadRows`) a skipped row counted in `skippedRows`.
    public func labelled(with labelSet: LabelSet, skipBadRows: Bool = false, task: Task = .singleLabel,
                         separator: String = "|") throws -> LabelledDataset {
        var kept = self
        kept.examples = []
        var ids: [Int] = [], sets: [[Int]] = [], values: [Float] = []
        for example in examples {
            let problem: TrainingDataError
            switch task {
            case .singleLabel:
                if let id = labelSet.id(of: example.label) {
                    kept.examples.append(example)
                    ids.append(id)
                    continue
                }
                problem = TrainingDataError.row(.unknownLabel, file: source, line: example.line,
                    "the label \"\(example.label)\" is not one of \(labelSet.names.map { "\"\($0)\"" }.joined(separator: ", "))")
            case .multiLabel:
                let names = LabelSet.split(example.label, by: separator)
                let found = names.map { labelSet.id(of: $0) }
                if let missing = zip(names, found).first(where: { $0.1 == nil })?.0 {
                    problem = TrainingDataError.row(.unknownLabel, file: source, line: example.line,
                        "the label \"\(missing)\" is not one of \(labelSet.names.map { "\"\($0)\"" }.joined(separator: ", "))")
                } else {
                    kept.examples.append(example)
                    ids.append(0)
                    sets.append(Array(Set(found.map { $0! })).sorted())
                    continue
                }
            case .regression:
                if let value = Double(example.label), value.isFinite {
                    kept.examples.append(example)
                    ids.append(0)
                    values.append(Float(value))
                    continue
                }
                problem = TrainingDataError.row(.unknownLabel, file: source, line: example.line,
                    "the regression target \"\(example.label)\" is not a number")
            }
            guard skipBadRows else { throw problem }
            kept.skippedRows += 1
            if kept.skippedReasons.count < 10 { kept.skippedReasons.append(problem.message) }
        }
        guard !ids.isEmpty else { throw TrainingDataError(.notEnoughData, "\(source): no row has a usable label") }
        var labelled = LabelledDataset(dataset: kept, labels: ids, labelSet: labelSet)
        labelled.task = task
        labelled.labelSets = sets
        labelled.values = values
        return labelled
    }
}
