import BertCore

/// Scores the model being trained on held-out data, in inference mode (no dropout). A plain
/// model uses the fast inference forward; with LoRA, whose adapters only the trainer applies, a
/// second, dropout-free trainer with the current adapter values computes the logits.
final class Evaluator {
    private let trainer: Trainer
    private let inferenceTrainer: Trainer?
    private let betweenBatches: () -> Void
    private lazy var workspace = trainer.model.makeWorkspace()

    /// betweenBatches: called after every batch (the daemon serves waiting requests there).
    init(trainer: Trainer, options: FineTuneOptions, betweenBatches: @escaping () -> Void = {}) throws {
        self.trainer = trainer
        self.betweenBatches = betweenBatches
        if trainer.lora != nil {
            var o = options.trainingOptions
            o.dropout = .none
            inferenceTrainer = try Trainer(model: trainer.model, options: o)
        } else {
            inferenceTrainer = nil
        }
    }

    func evaluate(_ data: TokenizedDataset, labels: [String]) throws -> ClassificationMetrics {
        try evaluateWithOutputs(data, labels: labels).metrics
    }

    /// The metrics and the model's outputs (N, C) on the data.
    func evaluateWithOutputs(_ data: TokenizedDataset, labels: [String]) throws -> (metrics: ClassificationMetrics, logits: [[Float]]) {
        guard let inferenceTrainer, let adapters = trainer.lora, let copy = inferenceTrainer.lora else {
            let model = trainer.model, workspace = workspace
            return try Evaluation.run(data, labelNames: labels) { batch in
                defer { betweenBatches() }
                return try model.classify(batch, workspace: workspace)
            }
        }
        copy.parameters.base.update(from: adapters.parameters.base, count: adapters.parameters.count)
        return try Evaluation.run(data, labelNames: labels) { batch in
            defer { betweenBatches() }
            // The loss is not used: any targets of the loss's kind do.
            let none: TrainingTargets
            switch inferenceTrainer.options.loss.task {
            case .singleLabel: none = .classes(Array(repeating: 0, count: batch.count))
            case .multiLabel: none = .labelSets(Array(repeating: 0, count: batch.count * labels.count))
            case .regression: none = .values(Array(repeating: 0, count: batch.count))
            }
            return try inferenceTrainer.loss(batch, targets: none).logits
        }
    }
}
