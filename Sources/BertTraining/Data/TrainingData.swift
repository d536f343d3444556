import Foundation

/// The training and validation data of a run, labelled with one label set — what a training
/// job starts from.
public struct TrainingData: Sendable {
    public var train: LabelledDataset
    public var validation: LabelledDataset
    public var labelSet: LabelSet { train.labelSet }
    /// true when the validation part was carved out of the training file.
    public var validationWasSplit: Bool
    /// The task read from the data when none was named (`DatasetOptions.detectTask`).
    public var detectedTask: Task?

    /// Reads the training file (and the validation file, if any). The label set is `labels`
    /// when given, else the sorted labels of the training file; an unknown label in either file
    /// is a bad row. Without a validation file, `validationFraction` of the training file is
    /// held out, stratified by label, with `seed`.
    public static func load(train: URL, validation: URL? = nil, options: DatasetOptions = DatasetOptions(),
                            labels: [String]? = nil, validationFraction: Double = 0.1, seed: UInt64 = 0) throws -> TrainingData {
        var options = options
        if options.detectTask {
            options.task = try detectTask(train, options: options)
            options.detectTask = false
            var data = try load(train: train, validation: validation, options: options, labels: labels,
                                validationFraction: validationFraction, seed: seed)
            data.detectedTask = options.task
            return data
        }
        let trainSet = try Dataset.load(train, options: options)
        let task = options.task
        let labelSet: LabelSet
        switch task {
        case .singleLabel: labelSet = try labels.map { try LabelSet(names: $0) } ?? LabelSet(inferredFrom: [trainSet])
        case .multiLabel:
            labelSet = try labels.map { try LabelSet(names: $0, minimum: 1) } ?? LabelSet(inferredFrom: [trainSet], separator: options.labelSeparator)
        case .regression:
            // One output, named after the label column (or the one name given).
            labelSet = try LabelSet(names: labels ?? [options.labelColumn], minimum: 1)
            guard labelSet.count == 1 else { throw TrainingDataError(.invalidOption, "a regression model has one output: name at most one label") }
        }
        func labelled(_ data: Dataset) throws -> LabelledDataset {
            try data.labelled(with: labelSet, skipBadRows: options.skipBadRows, task: task, separator: options.labelSeparator)
        }
        let labelledTrain = try labelled(trainSet)
        if let validation {
            return TrainingData(train: labelledTrain, validation: try labelled(try Dataset.load(validation, options: options)),
                                validationWasSplit: false)
        }
        // Fraction 0: no validation set (few-shot training spares none of its few texts).
        if validationFraction == 0 {
            return TrainingData(train: labelledTrain, validation: labelledTrain.subset([]), validationWasSplit: false)
        }
        // Stratified by class for single-label data; for label sets and values every label id
        // is 0, and the split is a seeded random one.
        let split = try Splits.stratified(labels: labelledTrain.labels, classes: labelSet.count,
                                          fraction: validationFraction, seed: seed)
        var trainPart = labelledTrain.subset(split.train)
        // The skipped-row count belongs to the file, and the training part reports it.
        trainPart.dataset.skippedRows = labelledTrain.dataset.skippedRows
        trainPart.dataset.skippedReasons = labelledTrain.dataset.skippedReasons
        return TrainingData(train: trainPart, validation: labelledTrain.subset(split.validation), validationWasSplit: true)
    }

    /// Multi-label when some row of the training file has several labels (read as multi-label
    /// data, a row with two or more after splitting), else single-label.
    static func detectTask(_ train: URL, options: DatasetOptions) throws -> Task {
        var probe = options
        probe.task = .multiLabel
        probe.detectTask = false
        guard let rows = try? Dataset.load(train, options: probe) else { return .singleLabel }
        let several = rows.examples.contains { LabelSet.split($0.label, by: options.labelSeparator).count > 1 }
        return several ? .multiLabel : .singleLabel
    }

    /// The k folds of cross-validation over the training file (the validation file, if the run
    /// has one, is not used by k-fold).
    public func folds(_ k: Int, seed: UInt64) throws -> [TrainingData] {
        let all = validationWasSplit ? merged() : train
        return try Splits.stratifiedKFold(labels: all.labels, classes: labelSet.count, folds: k, seed: seed).map {
            TrainingData(train: all.subset($0.train), validation: all.subset($0.validation), validationWasSplit: true)
        }
    }

    /// Train and carved-out validation back together, in file order.
    private func merged() -> LabelledDataset {
        var all = LabelledDataset(dataset: Dataset(source: train.dataset.source, examples: train.examples + validation.examples),
                                  labels: train.labels + validation.labels, labelSet: labelSet)
        all.task = train.task
        all.labelSets = train.labelSets + validation.labelSets
        all.values = train.values + validation.values
        return all.subset(all.examples.indices.sorted { all.examples[$0].line < all.examples[$1].line })
    }

    /// Counts for the report: examples and examples per class of each part, skipped rows.
    public var statistics: DataStatistics {
        DataStatistics(trainExamples: train.count, validationExamples: validation.count,
                       trainClassCounts: train.classCounts, validationClassCounts: validation.classCounts,
                       skippedRows: train.dataset.skippedRows + (validationWasSplit ? 0 : validation.dataset.skippedRows),
                       validationWasSplit: validationWasSplit)
    }
}

public struct DataStatistics: Sendable, Codable, Equatable {
    public var trainExamples: Int
    public var validationExamples: Int
    public var trainClassCounts: [Int]
    public var validationClassCounts: [Int]
    public var skippedRows: Int
    public var validationWasSplit: Bool
    /// Filled in after tokenization: mean and longest sequence, sequences truncated.
    public var meanTokens: Double?
    public var maxTokens: Int?
    public var truncatedSequences: Int?
    /// Long documents: the mean number of windows per training example.
    public var meanWindows: Double?

    enum CodingKeys: String, CodingKey {
        case trainExamples = "train_examples", validationExamples = "validation_examples"
        case trainClassCounts = "train_class_counts", validationClassCounts = "validation_class_counts"
        case skippedRows = "skipped_rows", validationWasSplit = "validation_was_split"
        case meanTokens = "mean_tokens", maxTokens = "max_tokens", truncatedSequences = "truncated_sequences"
        case meanWindows = "mean_windows"
    }
}
