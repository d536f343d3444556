import BertCore

/// Runs a classifier over a tokenized dataset in inference mode and scores it.
public enum Evaluation {
    /// `logitsOf` gives the logits (B, C) of one batch's sequences (windows of long documents are
    /// aggregated here): `model.classify` for a plain model, or a
    /// trainer's inference forward for one with adapters. Batches keep file order.
    public static func run(_ data: TokenizedDataset, labelNames: [String], batchSize: Int = 64, thresholds: [Double]? = nil,
                           logitsOf: (TokenBatch) throws -> [[Float]]) throws -> (metrics: ClassificationMetrics, logits: [[Float]]) {
        guard batchSize > 0 else { throw TrainingDataError(.invalidOption, "the batch size must be positive (got \(batchSize))") }
        var logits: [[Float]] = []
        logits.reserveCapacity(data.count)
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let batch = data.batch(Array(start..<min(start + batchSize, data.count)))
            var rows = try logitsOf(batch.tokens)
            if let windows = batch.windows, rows.count == windows.windows {
                rows = aggregateWindows(rows, groups: windows, aggregation: batch.aggregation)
            }
            guard rows.count == batch.labels.count, rows.allSatisfy({ $0.count == labelNames.count }) else {
                throw TrainingDataError(.invalidOption, "the model gives \(rows.first?.count ?? 0) scores per text but the data has \(labelNames.count) labels")
            }
            logits += rows
        }
        return (ClassificationMetrics(outputs: logits, data: data, labelNames: labelNames, thresholds: thresholds), logits)
    }

    /// Scores a model with a classification head (one workspace, the caller's thread).
    public static func run(_ data: TokenizedDataset, model: TransformerModel, labelNames: [String]? = nil,
                           batchSize: Int = 64, thresholds: [Double]? = nil) throws -> (metrics: ClassificationMetrics, logits: [[Float]]) {
        let workspace = model.makeWorkspace()
        return try run(data, labelNames: labelNames ?? model.labels, batchSize: batchSize, thresholds: thresholds) {
            try model.classify($0, workspace: workspace)
        }
    }
}
