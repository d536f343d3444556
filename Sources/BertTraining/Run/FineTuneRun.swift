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
        let started = monotonic()
        let labels = data.labelSet.names
        let last = output.appendingPathComponent(Self.lastCheckpointName)
        let resuming = resume && FileManager.default.fileExists(atPath: last.appendingPathComponent(ResumeState.trainerStateName).path)
        let source = resuming ? last : modelDirectory
        let model = try ModelLoader.load(directory: source, newHead: .init(labels: labels, seed: options.seed))
        betweenSteps()  // long phases are cut where they can be, so a daemon keeps serving
        let tokenizer = try Tokenizer(directory: modelDirectory)
        let maxLength = min(options.maxLength, model.config.maxSequenceLength)
        var report = TrainingReport(title: "\(modelDirectory.lastPathComponent) · \(options.methodName)",
                                    configuration: options.reportConfiguration, labels: labels,
                                    data: data.statistics, selectionMetric: options.selectionMetric)

        let tokenizeStart = monotonic()
        let threads = ComputeThreads.current
        let train = TokenizedDataset(data.train, tokenizer: tokenizer, maxLength: maxLength, threads: threads)
        betweenSteps()
        let validation = TokenizedDataset(data.validation, tokenizer: tokenizer, maxLength: maxLength, threads: threads)
        betweenSteps()
        report.timings.tokenization = monotonic() - tokenizeStart

        let trainer = try Trainer(model: model, options: options.trainingOptions)
        let optimizer = AdamW(groups: trainer.parameterGroups,
                              config: AdamWConfig(weightDecay: options.weightDecay, decayEveryParameter: false))
        if let decay = options.layerDecay { optimizer.applyLayerwiseDecay(decay, layers: model.config.numLayers) }
        let batcher = try Batcher(data: train, batchSize: options.batchSize, seed: options.seed)
        let updatesPerEpoch = (batcher.batchesPerEpoch + options.gradientAccumulation - 1) / options.gradientAccumulation
        let totalSteps = max(1, updatesPerEpoch * options.epochs)
        let schedule = LearningRateSchedule(peak: options.learningRate, shape: options.schedule,
                                            warmupSteps: Int((Double(totalSteps) * options.warmupRatio).rounded()),
                                            totalSteps: totalSteps)
        var stopping = try EarlyStopping(metric: options.selectionMetric, patience: options.patience)
        let evaluator = try Evaluator(trainer: trainer, options: options, betweenBatches: betweenSteps)

        var firstEpoch = 0
        var resumedBatches = 0, resumedLossSum = 0.0  // a resume point inside an epoch
        if resuming {
            let (state, step) = try ResumeState.read(from: last, into: optimizer.checkpointMoments)
            if let adapters = trainer.lora {
                try adapters.load(SafetensorsFile(path: last.appendingPathComponent(LoRAAdapters.resumeFileName).path))
            }
            optimizer.restoreStepCount(step)
            trainer.dropoutPass = state.dropoutPass
            stopping = state.earlyStopping ?? stopping
            firstEpoch = state.epoch
            resumedBatches = state.stepInEpoch
            resumedLossSum = state.epochLossSum ?? 0
            if let previous = try? TrainingReport.decode(Data(contentsOf: last.appendingPathComponent(TrainingReport.jsonName))) {
                report.epochs = previous.epochs
                report.steps = previous.steps
                report.bestEpoch = previous.bestEpoch
            }
        }

        // Head-only: the frozen encoder's outputs never change, so compute them once.
        let headFeatures: [[Float]]? = options.method == .headOnly ? try Self.firstTokenFeatures(train, model: model) : nil

        let trainStart = monotonic()
        var examplesDone = 0
        var evaluationSeconds = 0.0
        epochs: for epoch in firstEpoch..<options.epochs {
            let epochStart = monotonic()
            var lossSum = 0.0, lossCount = 0
            let batches = batcher.indexBatches(epoch: epoch)
            // The batch order depends only on (seed, epoch): a mid-epoch resume skips what was taken.
            let skip = epoch == firstEpoch ? resumedBatches : 0
            if skip > 0 { (lossSum, lossCount) = (resumedLossSum, skip) }
            for (i, indices) in batches.enumerated() where i >= skip {
                let accumulateIndex = i % options.gradientAccumulation
                let groupSize = min(options.gradientAccumulation, batches.count - (i - accumulateIndex))
                let batch = train.batch(indices)
                let out: TrainingOutput
                if let features = headFeatures, options.gradientAccumulation == 1 {
                    out = try trainer.headForwardBackward(features: indices.map { features[$0] }, labels: batch.labels)
                } else {
                    out = try trainer.forwardBackward(batch.tokens, labels: batch.labels, zeroingGradients: accumulateIndex == 0,
                                                      lossScale: 1 / Float(groupSize))
                }
                lossSum += Double(out.loss)
                lossCount += 1
                examplesDone += batch.labels.count
                betweenSteps()
                guard accumulateIndex == groupSize - 1 else { continue }
                let lr = schedule.learningRate(step: optimizer.stepCount)
                optimizer.step(learningRate: lr, maxGradNorm: options.maxGradNorm)
                let elapsed = monotonic() - trainStart - evaluationSeconds
                let rate = Double(examplesDone) / max(elapsed, 1e-9)
                let stepsLeft = totalSteps - optimizer.stepCount
                report.steps.append(StepRecord(step: optimizer.stepCount, epoch: Double(epoch) + Double(i + 1) / Double(batches.count),
                                               loss: Double(out.loss), learningRate: Double(lr)))
                var p = Progress(epoch: epoch + 1, epochs: options.epochs, step: optimizer.stepCount, totalSteps: totalSteps,
                                 loss: lossSum / Double(lossCount), learningRate: Double(lr), examplesPerSecond: rate,
                                 secondsLeft: Double(stepsLeft * options.batchSize * options.gradientAccumulation) / max(rate, 1e-9))
                if let every = options.evalEverySteps, optimizer.stepCount % every == 0, i < batches.count - 1 {
                    let t = monotonic()
                    p.evaluation = try evaluator.evaluate(validation, labels: labels)
                    evaluationSeconds += monotonic() - t
                }
                progress(p)
                let stop = stopRequested()
                if i < batches.count - 1,
                   stop || options.checkpointEverySteps.map({ optimizer.stepCount % $0 == 0 }) == true {
                    try writeResumePoint(trainer: trainer, optimizer: optimizer, report: report, epoch: epoch, stepInEpoch: i + 1,
                                         epochLossSum: lossSum, stopping: stopping, to: last)
                    if stop { throw Interrupted(epoch: epoch + 1, step: optimizer.stepCount, resumePoint: last) }
                }
            }
            let t = monotonic()
            let metrics = try evaluator.evaluate(validation, labels: labels)
            evaluationSeconds += monotonic() - t
            let seconds = monotonic() - epochStart
            report.epochs.append(EpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(max(lossCount, 1)), validation: metrics,
                                             seconds: seconds, examplesPerSecond: Double(train.count) / seconds,
                                             learningRate: Double(schedule.learningRate(step: optimizer.stepCount))))
            progress(Progress(epoch: epoch + 1, epochs: options.epochs, step: optimizer.stepCount, totalSteps: totalSteps,
                              loss: lossSum / Double(max(lossCount, 1)), learningRate: 0, examplesPerSecond: Double(train.count) / seconds,
                              secondsLeft: 0, evaluation: metrics))
            let decision = stopping.update(metrics, epoch: epoch + 1)
            if decision == .improved {
                report.bestEpoch = epoch + 1
                report.finalMetrics = metrics
                try writeModel(trainer: trainer, report: report, to: output)
                betweenSteps()
            }
            try writeResumePoint(trainer: trainer, optimizer: optimizer, report: report, epoch: epoch + 1, stepInEpoch: 0,
                                 epochLossSum: nil, stopping: stopping, to: last)
            if decision == .stop {
                report.stoppedEarly = true
                break epochs
            }
            if epoch < options.epochs - 1 && stopRequested() {
                throw Interrupted(epoch: epoch + 1, step: optimizer.stepCount, resumePoint: last)
            }
        }
        if case .lora(let config) = options.method, options.mergeLoRA, report.bestEpoch != nil {
            try writeMerged(config: config, from: output, to: output.appendingPathComponent(Self.mergedName))
        }
        report.timings.training = monotonic() - trainStart - evaluationSeconds
        report.timings.evaluation = evaluationSeconds
        report.timings.total = monotonic() - started
        try writeReport(report, into: output)
        return report
    }

    /// The model directory (or, for LoRA, the adapter next to the head-carrying model).
    private func writeModel(trainer: Trainer, report: TrainingReport, to directory: URL) throws {
        var checkpoint = try ModelCheckpoint(model: trainer.model, labels: data.labelSet.names, sourceDirectory: modelDirectory)
        checkpoint.report = report
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
        try ModelCheckpoint(model: model, labels: data.labelSet.names, sourceDirectory: modelDirectory).write(to: directory)
    }

    /// `epoch`: epochs completed; `stepInEpoch`: batches of the next one already taken.
    private func writeResumePoint(trainer: Trainer, optimizer: AdamW, report: TrainingReport, epoch: Int, stepInEpoch: Int,
                                  epochLossSum: Double?, stopping: EarlyStopping, to directory: URL) throws {
        var checkpoint = try ModelCheckpoint(model: trainer.model, labels: data.labelSet.names, sourceDirectory: modelDirectory)
        checkpoint.report = report
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

func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
