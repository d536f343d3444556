import BertBaselines
import BertCore
import BertTokenizers
import BertTraining
import Foundation

/// SetFit's recipe (Tunstall et al. 2022, setfit/trainer.py) on bertd's engine:
/// 1. pairs of the training texts, positive (same class) and negative (`ContrastivePairs`);
/// 2. the encoder fine-tuned on them with CosineSimilarityLoss on its mean-pooled, normalised
///    embeddings (`Trainer.contrastiveForwardBackward`; AdamW, warm-up then linear decay,
///    gradients clipped);
/// 3. a logistic regression fitted on the tuned encoder's embeddings of the training texts
///    (`EmbeddingClassifier`), which becomes the model's `EmbeddingHead`.
/// The result classifies like any model (`TransformerModel.classify`); `FewShotCheckpoint`
/// writes it.
public enum FewShotRun {
    public struct Progress: Sendable {
        public enum Phase: String, Sendable { case training, head, evaluating }
        public var phase: Phase
        public var step: Int
        public var totalSteps: Int
        public var epoch: Int
        public var loss: Float?
        public var learningRate: Float?
    }

    public struct Result {
        /// The tuned encoder with its head.
        public var model: TransformerModel
        public var report: FewShotReport
    }

    /// Thrown when `shouldStop` asked the run to stop before it finished.
    public struct Stopped: Error {}

    /// - Parameters:
    ///   - baseModel: a model directory (its encoder is tuned; a head on [CLS], if any, is ignored).
    ///   - data: single-label texts without a pair column; every class needs an example.
    public static func train(baseModel: URL, data: TrainingData, options o: FewShotOptions,
                             progress: (Progress) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> Result {
        let started = monotonicSeconds()
        guard data.train.task == .singleLabel else {
            throw TrainingDataError(.invalidOption, "few-shot training is for single-label data (the task is \(data.train.task.rawValue))")
        }
        guard !data.train.examples.contains(where: { $0.pair != nil }) else {
            throw TrainingDataError(.invalidOption, "few-shot training compares single texts: the data has a pair column")
        }
        let labels = data.labelSet.names
        let counts = data.train.classCounts
        if let empty = counts.firstIndex(of: 0) {
            throw TrainingDataError(.notEnoughData, "the training data has no example of \"\(labels[empty])\": few-shot needs at least one per class")
        }
        let base = try ModelLoader.load(directory: baseModel)
        let tokenizer: Tokenizer
        do { tokenizer = try Tokenizer(directory: baseModel) } catch let e as TokenizerError {
            throw BertError(.notAModel, "\(baseModel.path): \(e.description)")
        }
        let texts = TokenizedDataset(data.train, tokenizer: tokenizer, maxLength: min(o.maxLength, base.config.maxSequenceLength))
        let pairs = try ContrastivePairs.build(labels: data.train.labels, seed: o.seed, iterations: o.pairIterations)

        // 2. The body.
        let trainer = try Trainer(encoder: base, options: TrainingOptions(
            dropout: DropoutRates(hidden: o.dropout, attention: o.dropout, classifier: 0), seed: o.seed))
        let optimizer = AdamW(groups: trainer.parameterGroups, config: AdamWConfig(weightDecay: o.weightDecay))
        let stepsPerEpoch = (pairs.count + o.batchSize - 1) / o.batchSize
        let totalSteps = stepsPerEpoch * o.epochs
        let schedule = LearningRateSchedule(peak: o.learningRate, shape: .linear,
                                            warmupSteps: Int((Double(totalSteps) * o.warmupRatio).rounded(.up)), totalSteps: totalSteps)
        var losses: [Float] = []
        for epoch in 0..<o.epochs {
            var order = pairs
            var generator = SeededGenerator.derived(seed: o.seed, stream: UInt64(epoch + 1))
            generator.shuffle(&order)
            for start in stride(from: 0, to: order.count, by: o.batchSize) {
                if shouldStop() { throw Stopped() }
                let chunk = order[start..<min(start + o.batchSize, order.count)]
                var batch = TokenBatch()
                for pair in chunk {
                    batch.append(ids: texts.ids[pair.first], typeIds: texts.typeIds[pair.first])
                    batch.append(ids: texts.ids[pair.second], typeIds: texts.typeIds[pair.second])
                }
                let out = try trainer.contrastiveForwardBackward(batch, targets: chunk.map(\.target))
                let lr = schedule.learningRate(step: optimizer.stepCount)
                _ = optimizer.step(learningRate: lr, maxGradNorm: o.maxGradNorm > 0 ? o.maxGradNorm : nil)
                losses.append(out.loss)
                progress(Progress(phase: .training, step: losses.count, totalSteps: totalSteps, epoch: epoch + 1, loss: out.loss, learningRate: lr))
            }
        }
        let bodySeconds = monotonicSeconds() - started

        // 3. The head, on the tuned encoder's embeddings of the training texts.
        progress(Progress(phase: .head, step: totalSteps, totalSteps: totalSteps, epoch: o.epochs))
        let headStarted = monotonicSeconds()
        let workspace = base.makeWorkspace()
        var embeddings: [[Float]] = []
        for start in stride(from: 0, to: texts.count, by: 64) {
            if shouldStop() { throw Stopped() }
            embeddings += try base.embed(texts.batch(Array(start..<min(start + 64, texts.count))).tokens, workspace: workspace)
        }
        let fit = try EmbeddingClassifier.fit(embeddings: embeddings, labels: data.train.labels, classes: labels.count, c: o.c,
                                              threads: ComputeThreads.cores)
        let model = try base.withEmbeddingHead(fit.head, labels: labels)
        let headSeconds = monotonicSeconds() - headStarted

        progress(Progress(phase: .evaluating, step: totalSteps, totalSteps: totalSteps, epoch: o.epochs))
        let trainMetrics = ClassificationMetrics(logits: embeddings.map(fit.head.logits), labels: data.train.labels, labelNames: labels)
        var validation: ClassificationMetrics?
        if data.validation.count > 0 {
            let tokenized = TokenizedDataset(data.validation, tokenizer: tokenizer, maxLength: min(o.maxLength, base.config.maxSequenceLength))
            validation = try Evaluation.run(tokenized, model: model).metrics
        }
        let report = FewShotReport(
            baseModel: baseModel.lastPathComponent, labels: labels, examplesPerClass: counts, pairs: pairs.count,
            positivePairs: pairs.lazy.filter { $0.target == 1 }.count, steps: totalSteps, epochs: o.epochs, batchSize: o.batchSize,
            learningRate: o.learningRate, pairIterations: o.pairIterations, c: o.c, seed: o.seed, losses: losses,
            headIterations: fit.iterations, headStop: fit.stop, bodySeconds: bodySeconds, headSeconds: headSeconds,
            totalSeconds: monotonicSeconds() - started, train: trainMetrics, validation: validation)
        return Result(model: model, report: report)
    }
}
