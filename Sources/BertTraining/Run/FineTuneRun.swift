import BertCore
import BertTokenizers
import Foundation

/// One fine-tuning run: tokenize once, train for the epochs, evaluate on the validation set
/// after every epoch (or N steps), keep the best checkpoint by the selection metric, stop
/// early when it stops improving, and write a Hugging Face directory with
/// training_report.json and training_report.svg. Every epoch also leaves `last-checkpoint/`
/// (model, optimizer moments, trainer state) that `resume` continues from after a crash.
public final class FineTuneRun {
    /// What the progress callback sees after every optimizer step and evaluation.
    public struct Progress: Sendable {
        public var epoch: Int
        public var epochs: Int
        public var step: Int
        public var totalSteps: Int
        public var loss: Double
        public var learningRate: Double
        public var examplesPerSecond: Double
        public var secondsLeft: Double
        public var evaluation: ClassificationMetrics?
    }

    /// A run that stopped because `stopRequested` said so, after writing its resume point:
    /// `run(resume: true)` continues from there exactly as if it had not stopped.
    public struct Interrupted: Error, CustomStringConvertible {
        /// The epoch it stopped in (1-based) and the optimizer steps taken.
        public let epoch: Int
        public let step: Int
        public let resumePoint: URL
        public var description: String { "stopped at step \(step), in epoch \(epoch); the resume point is \(resumePoint.path)" }
    }

    public let modelDirectory: URL
    public let data: TrainingData
    public let options: FineTuneOptions
    public let output: URL
    private let progress: (Progress) -> Void
    private let stopRequested: () -> Bool
    private let betweenSteps: () -> Void
    /// `options.windows` for this model (the model's maximum filled in), once prepared.
    private var resolvedWindows: LongDocumentPolicy?

    public static let lastCheckpointName = "last-checkpoint"

    /// - Parameters:
    ///   - stopRequested: asked after every optimizer step; true stops the run at that step with a
    ///     resume point (a signal handler, a job being cancelled or the daemon stopping).
    ///   - betweenSteps: called after every micro-batch, on the training thread: the daemon runs
    ///     waiting inference batches there, so serving keeps priority over training.
    public init(modelDirectory: URL, data: TrainingData, options: FineTuneOptions, output: URL,
                progress: @escaping (Progress) -> Void = { _ in }, stopRequested: @escaping () -> Bool = { false },
                betweenSteps: @escaping () -> Void = {}) {
        self.modelDirectory = modelDirectory
        self.data = data
        self.options = options
        self.output = output
        self.progress = progress
        self.stopRequested = stopRequested
        self.betweenSteps = betweenSteps
    }

    /// Trains; with `resume`, continues from `output/last-checkpoint` if it is there. Throws
    /// `Interrupted` when `stopRequested` stopped it.
    @discardableResult
    public func run(resume: Bool = false) throws -> TrainingReport {
        let started = monotonicSeconds()
        let last = output.appendingPathComponent(Self.lastCheckpointName)
        let resuming = resume && FileManager.default.fileExists(atPath: last.appendingPathComponent(ResumeState.trainerStateName).path)
        let run = try prepare(from: resuming ? last : modelDirectory)
        if resuming { try restore(run, from: last) }
        // Head-only: the frozen encoder's outputs never change, so compute them once.
        if options.method == .headOnly, data.train.task == .singleLabel, options.windows == nil {
            run.headFeatures = try Self.firstTokenFeatures(run.train, model: run.trainer.model)
        }

        run.trainStart = monotonicSeconds()
        for epoch in run.firstEpoch..<options.epochs {
            let finished = try trainEpoch(epoch, run, resumePoint: last)
            if finished == .stoppedEarly { break }
            if epoch < options.epochs - 1 && stopRequested() {
                throw Interrupted(epoch: epoch + 1, step: run.optimizer.stepCount, resumePoint: last)
            }
        }
        if case .lora(let config) = options.method, options.mergeLoRA, run.report.bestEpoch != nil {
            try writeMerged(config: config, from: output, to: output.appendingPathComponent(Self.mergedName))
        }
        run.report.timings.training = monotonicSeconds() - run.trainStart - run.evaluationSeconds
        run.report.timings.evaluation = run.evaluationSeconds
        run.report.timings.total = monotonicSeconds() - started
        try writeReport(run.report, into: output)
        return run.report
    }

    /// What a run builds before its first step (model, tokenized data, trainer, optimizer,
    /// schedule) and the state its steps advance.
    private final class RunState {
        let trainer: Trainer
        let optimizer: AdamW
        let schedule: LearningRateSchedule
        let batcher: Batcher
        let evaluator: Evaluator
        let train: TokenizedDataset
        let validation: TokenizedDataset
        let totalSteps: Int
        var report: TrainingReport
        var stopping: EarlyStopping
        var headFeatures: [[Float]]?
        /// Where training starts: the epoch, and batches of it already taken (a mid-epoch resume point).
        var firstEpoch = 0, resumedBatches = 0, resumedLossSum = 0.0
        var trainStart = 0.0, examplesDone = 0, evaluationSeconds = 0.0

        init(trainer: Trainer, optimizer: AdamW, schedule: LearningRateSchedule, batcher: Batcher, evaluator: Evaluator,
             train: TokenizedDataset, validation: TokenizedDataset, totalSteps: Int, report: TrainingReport, stopping: EarlyStopping) {
            (self.trainer, self.optimizer, self.schedule, self.batcher, self.evaluator) = (trainer, optimizer, schedule, batcher, evaluator)
            (self.train, self.validation, self.totalSteps, self.report, self.stopping) = (train, validation, totalSteps, report, stopping)
        }
    }

    /// Loads the model from `source` (the base model, or a resume point), tokenizes the data and
    /// builds the trainer, optimizer and schedule.
    private func prepare(from source: URL) throws -> RunState {
        let labels = data.labelSet.names
        let model = try ModelLoader.load(directory: source, newHead: .init(labels: labels, seed: options.seed))
        betweenSteps()  // long phases are cut where they can be, so a daemon keeps serving
        let tokenizer = try Tokenizer(directory: modelDirectory)
        let maxLength = min(options.maxLength, model.config.maxSequenceLength)
        var report = TrainingReport(title: "\(modelDirectory.lastPathComponent) · \(options.methodName)",
                                    configuration: options.reportConfiguration, labels: labels,
                                    data: data.statistics, selectionMetric: options.selectionMetric)
        report.task = data.train.task

        let tokenizeStart = monotonicSeconds()
        let threads = ComputeThreads.current
        let train: TokenizedDataset, validation: TokenizedDataset
        if let windows = options.windows?.resolved(maxSequenceLength: model.config.maxSequenceLength) {
            do { try windows.validate(maxSequenceLength: model.config.maxSequenceLength) } catch let e as BertError {
                throw TrainingDataError(.invalidOption, e.message)
            }
            resolvedWindows = windows
            train = try TokenizedDataset(data.train, tokenizer: tokenizer, windows: windows, threads: threads)
            betweenSteps()
            validation = try TokenizedDataset(data.validation, tokenizer: tokenizer, windows: windows, threads: threads)
        } else {
            train = TokenizedDataset(data.train, tokenizer: tokenizer, maxLength: maxLength, threads: threads)
            betweenSteps()
            validation = TokenizedDataset(data.validation, tokenizer: tokenizer, maxLength: maxLength, threads: threads)
        }
        betweenSteps()
        report.timings.tokenization = monotonicSeconds() - tokenizeStart
        if report.data != nil { train.record(into: &report.data!) }

        var trainingOptions = options.trainingOptions
        trainingOptions.loss = try options.loss(for: data.train.task)
        let trainer = try Trainer(model: model, options: trainingOptions)
        let optimizer = AdamW(groups: trainer.parameterGroups,
                              config: AdamWConfig(weightDecay: options.weightDecay, decayEveryParameter: false))
        if let decay = options.layerDecay { optimizer.applyLayerwiseDecay(decay, layers: model.config.numLayers) }
        let batcher = try Batcher(data: train, batchSize: options.batchSize, seed: options.seed)
        let updatesPerEpoch = (batcher.batchesPerEpoch + options.gradientAccumulation - 1) / options.gradientAccumulation
        let totalSteps = max(1, updatesPerEpoch * options.epochs)
        let schedule = LearningRateSchedule(peak: options.learningRate, shape: options.schedule,
                                            warmupSteps: Int((Double(totalSteps) * options.warmupRatio).rounded()),
                                            totalSteps: totalSteps)
        return RunState(trainer: trainer, optimizer: optimizer, schedule: schedule, batcher: batcher,
                        evaluator: try Evaluator(trainer: trainer, options: options, betweenBatches: betweenSteps),
                        train: train, validation: validation, totalSteps: totalSteps, report: report,
                        stopping: try EarlyStopping(metric: options.selectionMetric, patience: options.patience))
    }

    /// Restores the optimizer, dropout stream, early stopping, position and report of a resume point.
    private func restore(_ run: RunState, from last: URL) throws {
        let (state, step) = try ResumeState.read(from: last, into: run.optimizer.checkpointMoments)
        if let adapters = run.trainer.lora {
            try adapters.load(SafetensorsFile(path: last.appendingPathComponent(LoRAAdapters.resumeFileName).path))
        }
        run.optimizer.restoreStepCount(step)
        run.trainer.dropoutPass = state.dropoutPass
        run.stopping = state.earlyStopping ?? run.stopping
        run.firstEpoch = state.epoch
        run.resumedBatches = state.stepInEpoch
        run.resumedLossSum = state.epochLossSum ?? 0
        if let previous = try? TrainingReport.decode(Data(contentsOf: last.appendingPathComponent(TrainingReport.jsonName))) {
            run.report.epochs = previous.epochs
            run.report.steps = previous.steps
            run.report.bestEpoch = previous.bestEpoch
        }
    }

    private enum EpochEnd { case continuing, stoppedEarly }

    /// One epoch: its batches (after those a resume point already took), then the evaluation,
    /// the best model when it improved, and the epoch's resume point.
    private func trainEpoch(_ epoch: Int, _ run: RunState, resumePoint last: URL) throws -> EpochEnd {
        let epochStart = monotonicSeconds()
        var lossSum = 0.0, lossCount = 0
        let batches = run.batcher.indexBatches(epoch: epoch)
        // The batch order depends only on (seed, epoch): a mid-epoch resume skips what was taken.
        let skip = epoch == run.firstEpoch ? run.resumedBatches : 0
        if skip > 0 { (lossSum, lossCount) = (run.resumedLossSum, skip) }
        for (i, indices) in batches.enumerated() where i >= skip {
            let (loss, endsGroup) = try microStep(indices, index: i, of: batches.count, run)
            lossSum += loss
            lossCount += 1
            guard endsGroup else { continue }
            try optimizerStep(epoch: epoch, batch: i, of: batches.count, lastLoss: loss, meanLoss: lossSum / Double(lossCount), run)
            let stop = stopRequested()
            if i < batches.count - 1,
               stop || options.checkpointEverySteps.map({ run.optimizer.stepCount % $0 == 0 }) == true {
                try writeResumePoint(trainer: run.trainer, optimizer: run.optimizer, report: run.report, epoch: epoch, stepInEpoch: i + 1,
                                     epochLossSum: lossSum, stopping: run.stopping, to: last)
                if stop { throw Interrupted(epoch: epoch + 1, step: run.optimizer.stepCount, resumePoint: last) }
            }
        }
        let t = monotonicSeconds()
        let (metrics, outputs) = try run.evaluator.evaluateWithOutputs(run.validation, labels: data.labelSet.names)
        run.evaluationSeconds += monotonicSeconds() - t
        let seconds = monotonicSeconds() - epochStart
        let meanLoss = lossSum / Double(max(lossCount, 1))
        run.report.epochs.append(EpochRecord(epoch: epoch + 1, trainLoss: meanLoss, validation: metrics,
                                             seconds: seconds, examplesPerSecond: Double(run.train.count) / seconds,
                                             learningRate: Double(run.schedule.learningRate(step: run.optimizer.stepCount))))
        progress(Progress(epoch: epoch + 1, epochs: options.epochs, step: run.optimizer.stepCount, totalSteps: run.totalSteps,
                          loss: meanLoss, learningRate: 0, examplesPerSecond: Double(run.train.count) / seconds,
                          secondsLeft: 0, evaluation: metrics))
        let decision = run.stopping.update(metrics, epoch: epoch + 1)
        if decision == .improved {
            run.report.bestEpoch = epoch + 1
            run.report.finalMetrics = metrics
            run.report.curves = EvaluationCurves(outputs: outputs, data: run.validation, labelNames: data.labelSet.names)
            if data.train.task == .multiLabel { tuneThresholds(outputs: outputs, run) }
            if data.train.task == .singleLabel, options.tuneThreshold { tuneBinaryThreshold(outputs: outputs, run) }
            try writeModel(trainer: run.trainer, report: run.report, to: output)
            betweenSteps()
        }
        try writeResumePoint(trainer: run.trainer, optimizer: run.optimizer, report: run.report, epoch: epoch + 1, stepInEpoch: 0,
                             epochLossSum: nil, stopping: run.stopping, to: last)
        guard decision != .stop else {
            run.report.stoppedEarly = true
            return .stoppedEarly
        }
        return .continuing
    }

    /// Forward and backward of one micro-batch (batch `index` of `count`), its gradient added to
    /// the accumulation group's; returns its loss and whether it ends its group (time to step).
    private func microStep(_ indices: [Int], index i: Int, of count: Int, _ run: RunState) throws -> (loss: Double, endsGroup: Bool) {
        let accumulateIndex = i % options.gradientAccumulation
        let groupSize = min(options.gradientAccumulation, count - (i - accumulateIndex))
        let batch = run.train.batch(indices)
        let out: TrainingOutput
        if let features = run.headFeatures, options.gradientAccumulation == 1 {
            out = try run.trainer.headForwardBackward(features: indices.map { features[$0] }, labels: batch.labels)
        } else {
            out = try run.trainer.forwardBackward(batch.tokens, targets: batch.targets, windows: batch.windows,
                                                  aggregation: batch.aggregation, zeroingGradients: accumulateIndex == 0,
                                                  lossScale: 1 / Float(groupSize))
        }
        run.examplesDone += batch.labels.count
        betweenSteps()
        return (Double(out.loss), accumulateIndex == groupSize - 1)
    }

    /// The optimizer step that ends an accumulation group, its record in the report, the
    /// progress callback and, every `evalEverySteps`, an evaluation.
    private func optimizerStep(epoch: Int, batch i: Int, of count: Int, lastLoss: Double, meanLoss: Double, _ run: RunState) throws {
        let lr = run.schedule.learningRate(step: run.optimizer.stepCount)
        run.optimizer.step(learningRate: lr, maxGradNorm: options.maxGradNorm)
        let elapsed = monotonicSeconds() - run.trainStart - run.evaluationSeconds
        let rate = Double(run.examplesDone) / max(elapsed, 1e-9)
        let stepsLeft = run.totalSteps - run.optimizer.stepCount
        run.report.steps.append(StepRecord(step: run.optimizer.stepCount, epoch: Double(epoch) + Double(i + 1) / Double(count),
                                           loss: lastLoss, learningRate: Double(lr)))
        var p = Progress(epoch: epoch + 1, epochs: options.epochs, step: run.optimizer.stepCount, totalSteps: run.totalSteps,
                         loss: meanLoss, learningRate: Double(lr), examplesPerSecond: rate,
                         secondsLeft: Double(stepsLeft * options.batchSize * options.gradientAccumulation) / max(rate, 1e-9))
        if let every = options.evalEverySteps, run.optimizer.stepCount % every == 0, i < count - 1 {
            let t = monotonicSeconds()
            p.evaluation = try run.evaluator.evaluate(run.validation, labels: data.labelSet.names)
            run.evaluationSeconds += monotonicSeconds() - t
        }
        progress(p)
    }

    /// Multi-label: the decision threshold of each label that maximises its F1 on the validation
    /// set (0.5 for a label with fewer than `minimumThresholdSupport` positives there), and the
    /// metrics at those thresholds; the checkpoint's config.json keeps them.
    private func tuneThresholds(outputs: [[Float]], _ run: RunState) {
        let names = data.labelSet.names
        let thresholds = MultiLabelMetrics.tunedThresholds(probabilities: sigmoid(outputs), truth: run.validation.labelSetTruth,
                                                           minimumSupport: Self.minimumThresholdSupport)
        run.report.tunedThresholds = Dictionary(uniqueKeysWithValues: zip(names, thresholds))
        run.report.finalMetricsAtTunedThresholds = ClassificationMetrics(outputs: outputs, data: run.validation, labelNames: names,
                                                                         thresholds: thresholds)
    }

    /// A binary single-label model (`tuneThreshold`): the threshold on label 1's probability that
    /// maximises label 1's F1 on the validation set, as a multi-label label's (0.5 with fewer than
    /// `minimumThresholdSupport` positives); served from config.json like a multi-label model's.
    private func tuneBinaryThreshold(outputs: [[Float]], _ run: RunState) {
        let names = data.labelSet.names
        guard names.count == 2 else { return }
        let positive = outputs.map { [Double(softmax($0)[1])] }
        let t = MultiLabelMetrics.tunedThresholds(probabilities: positive, truth: run.validation.labels.map { [$0 == 1] },
                                                  minimumSupport: Self.minimumThresholdSupport)[0]
        run.report.tunedThresholds = [names[1]: t]
        run.report.finalMetricsAtTunedThresholds = ClassificationMetrics(outputs: outputs, data: run.validation, labelNames: names,
                                                                         thresholds: [1 - t, t])
    }

    /// Positives a label needs in the validation set for its threshold to be tuned.
    public static let minimumThresholdSupport = 5

    /// The model directory (or, for LoRA, the adapter next to the head-carrying model).
    private func writeModel(trainer: Trainer, report: TrainingReport, to directory: URL) throws {
        var checkpoint = try ModelCheckpoint(model: trainer.model, labels: data.labelSet.names, sourceDirectory: modelDirectory)
        checkpoint.report = report
        checkpoint.longDocuments = resolvedWindows
        if let adapters = trainer.lora {
            checkpoint.adapter = PEFTAdapter(lora: adapters, model: trainer.model, baseModelNameOrPath: modelDirectory.path)
        }
        try checkpoint.write(to: directory, betweenFiles: betweenSteps)
    }

    public static let mergedName = "merged"

    /// Each example's first-token state from the encoder's last layer (inference, no dropout).
    static func firstTokenFeatures(_ data: TokenizedDataset, model: TransformerModel) throws -> [[Float]] {
        let workspace = model.makeWorkspace()
        let h = model.config.hiddenSize
        var features: [[Float]] = []
        features.reserveCapacity(data.count)
        for start in stride(from: 0, to: data.count, by: 64) {
            let batch = data.batch(Array(start..<min(start + 64, data.count))).tokens
            try model.encode(batch, workspace: workspace)
            for s in 0..<batch.count { features.append(Array(model.hiddenStates(of: s, in: batch, workspace: workspace).prefix(h))) }
        }
        return features
    }

    /// The kept checkpoint's base weights + adapter, merged into a plain model directory.
    private func writeMerged(config: LoRAConfig, from kept: URL, to directory: URL) throws {
        let model = try ModelLoader.load(directory: kept)
        let adapters = try LoRAAdapters(model: model, config: config, seed: options.seed)
        try PEFTAdapter.read(from: kept, into: adapters, model: model)
        try adapters.merge(into: model)
        var checkpoint = try ModelCheckpoint(model: model, labels: data.labelSet.names, sourceDirectory: modelDirectory)
        checkpoint.longDocuments = resolvedWindows
        // Served as the kept checkpoint is: its task (multi-label, regression) and thresholds.
        checkpoint.task = model.config.task
        checkpoint.thresholds = model.config.decisionThresholds.isEmpty ? nil : model.config.decisionThresholds.mapValues(Double.init)
        try checkpoint.write(to: directory)
    }

    /// `epoch`: epochs completed; `stepInEpoch`: batches of the next one already taken.
    private func writeResumePoint(trainer: Trainer, optimizer: AdamW, report: TrainingReport, epoch: Int, stepInEpoch: Int,
                                  epochLossSum: Double?, stopping: EarlyStopping, to directory: URL) throws {
        var checkpoint = try ModelCheckpoint(model: trainer.model, labels: data.labelSet.names, sourceDirectory: modelDirectory)
        checkpoint.report = report
        checkpoint.longDocuments = resolvedWindows
        checkpoint.resume = ResumeState(
            trainer: TrainerState(epoch: epoch, stepInEpoch: stepInEpoch, globalStep: optimizer.stepCount, seed: options.seed,
                                  dropoutPass: trainer.dropoutPass, earlyStopping: stopping, bestMetric: stopping.best,
                                  epochLossSum: epochLossSum),
            optimizerStep: optimizer.stepCount, moments: optimizer.checkpointMoments)
        try checkpoint.write(to: directory, betweenFiles: betweenSteps)
        if let adapters = trainer.lora {
            try adapters.write(to: directory.appendingPathComponent(LoRAAdapters.resumeFileName))
        }
    }

    private func writeReport(_ report: TrainingReport, into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicDirectory.writeFile(try report.json(), to: directory.appendingPathComponent(TrainingReport.jsonName))
        try AtomicDirectory.writeFile(Data(ReportSVG.render(report).utf8), to: directory.appendingPathComponent(TrainingReport.svgName))
    }
}

extension LoRAAdapters {
    /// The adapters inside a resume point (PEFT names, as `write(to:)` writes them).
    static let resumeFileName = "lora_adapters.safetensors"
}
