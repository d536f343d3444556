import Foundation

/// The training and validation data of a run, labelled with one label set — what a training
/// job starts from.
public struct TrainingData: Sendable {
    public var train: LabelledDataset
    public var validation: LabelledDataset
    public var labelSet: LabelSet { train.labelSet }
    /// true when the validation part was carved out of the training file.
    public var validationWasSplit: Bool

    /// Reads the training file (and the validation file, if any). The label set is `labels`
    /// when given, else the sorted labels of the training file; an unknown label in either file
    /// is a bad row. Without a validation file, `validationFraction` of the training file is
    /// held out, stratified by label, with `seed`.
    public static func load(train: URL, validation: URL? = nil, options: DatasetOptions = DatasetOptions(),
                            labels: [String]? = nil, validationFraction: Double = 0.1, seed: UInt64 = 0) throws -> TrainingData {
        let trainSet = try Dataset.load(train, options: options)
        let labelSet = try labels.map { try LabelSet(names: $0) } ?? LabelSet(inferredFrom: [trainSet])
        let labelledTrain = try trainSet.labelled(with: labelSet, skipBadRows: options.skipBadRows)
        if let validation {
            let validationSet = try Dataset.load(validation, options: options)
            return TrainingData(train: labelledTrain,
                                validation: try validationSet.labelled(with: labelSet, skipBadRows: options.skipBadRows),
                                validationWasSplit: false)
        }
        let split = try Splits.stratified(labels: labelledTrain.labels, classes: labelSet.count,
                                          fraction: validationFraction, seed: seed)
        var trainPart = labelledTrain.subset(split.train)
        // The skipped-row count belongs to the file, and the training part reports it.
        trainPart.dataset.skippedRows = labelledTrain.dataset.skippedRows
        trainPart.dataset.skippedReasons = labelledTrain.dataset.skippedReasons
        return TrainingData(train: trainPart, validation: labelledTrain.subset(split.validation), validationWasSplit: true)
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
        let pairs: [(example: Example, label: Int)] = (Array(zip(train.examples, train.labels)) + Array(zip(validation.examples, validation.labels)))
            .sorted { $0.0.line < $1.0.line }
        let dataset = Dataset(source: train.dataset.source, examples: pairs.map { $0.example })
        return LabelledDataset(dataset: dataset, labels: pairs.map { $0.label }, labelSet: labelSet)
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

    enum CodingKeys: String, CodingKey {
        case trainExamples = "train_examples", validationExamples = "validation_examples"
        case trainClassCounts = "train_class_counts", validationClassCounts = "validation_class_counts"
        case skippedRows = "skipped_rows", validationWasSplit = "validation_was_split"
        case meanTokens = "mean_tokens", maxTokens = "max_tokens", truncatedSequences = "truncated_sequences"
    }
}
