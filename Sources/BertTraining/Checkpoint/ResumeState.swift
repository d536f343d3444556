import BertCore
import Foundation

/// Where a run stands, as trainer_state.json (keys after transformers' TrainerState where one
/// exists): enough to continue after a crash exactly where the last checkpoint was taken.
public struct TrainerState: Sendable, Codable, Equatable {
    /// Epochs completed.
    public var epoch: Int
    /// Batches of the current epoch already taken (0 at an epoch boundary); the batcher's
    /// order depends only on (seed, epoch), so a resumed run skips exactly these.
    public var stepInEpoch: Int
    /// Optimizer updates taken (the learning-rate schedule's position).
    public var globalStep: Int
    public var seed: UInt64
    /// The trainer's `dropoutPass`: dropout masks are a function of (seed, pass, site).
    public var dropoutPass: UInt64
    /// The state of any `SeededGenerator` the loop keeps running across epochs.
    public var generatorState: UInt64?
    public var earlyStopping: EarlyStopping?
    public var bestMetric: Double?
    public var bestCheckpoint: String?
    /// Mid-epoch: the training loss summed over the batches already taken, so the epoch's mean
    /// comes out as if it had not been interrupted.
    public var epochLossSum: Double?

    public init(epoch: Int, stepInEpoch: Int = 0, globalStep: Int, seed: UInt64, dropoutPass: UInt64,
                generatorState: UInt64? = nil, earlyStopping: EarlyStopping? = nil,
                bestMetric: Double? = nil, bestCheckpoint: String? = nil, epochLossSum: Double? = nil) {
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
        self.globalStep = globalStep
        self.seed = seed
        self.dropoutPass = dropoutPass
        self.generatorState = generatorState
        self.earlyStopping = earlyStopping
        self.bestMetric = bestMetric
        self.bestCheckpoint = bestCheckpoint
        self.epochLossSum = epochLossSum
    }

    enum CodingKeys: String, CodingKey {
        case epoch, seed
        case stepInEpoch = "step_in_epoch", globalStep = "global_step", dropoutPass = "dropout_pass"
        case generatorState = "generator_state", earlyStopping = "early_stopping"
        case bestMetric = "best_metric", bestCheckpoint = "best_model_checkpoint", epochLossSum = "epoch_loss_sum"
    }
}

/// AdamW's moments for one parameter group: the trainable tensors and the two arenas (same
/// layout as the group's parameters) holding exp_avg and exp_avg_sq.
public struct OptimizerMoments {
    public let specs: [ParameterSpec]
    public let firstMoment: ParameterArena
    public let secondMoment: ParameterArena

    public init(specs: [ParameterSpec], firstMoment: ParameterArena, secondMoment: ParameterArena) {
        self.specs = specs
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
    }
}

/// What a checkpoint needs beyond the model to resume: trainer_state.json and
/// optimizer.safetensors (`exp_avg.NAME`, `exp_avg_sq.NAME` for every trainable tensor, the
/// step count in the metadata).
public struct ResumeState {
    public static let trainerStateName = "trainer_state.json"
    public static let optimizerName = "optimizer.safetensors"

    public var trainer: TrainerState
    /// AdamW's step count t (bias correction), which may differ from trainer.globalStep when
    /// the optimizer was created mid-run.
    public var optimizerStep: Int
    public var moments: [OptimizerMoments]

    public init(trainer: TrainerState, optimizerStep: Int, moments: [OptimizerMoments]) {
        self.trainer = trainer
        self.optimizerStep = optimizerStep
        self.moments = moments
    }

    func write(into directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicDirectory.writeFile(try encoder.encode(trainer) + Data([0x0A]),
                                      to: directory.appendingPathComponent(Self.trainerStateName))
        var writer = SafetensorsWriter()
        for group in moments {
            for spec in group.specs {
                writer.add("exp_avg." + spec.name, shape: spec.ref.shape, values: group.firstMoment.values(spec.ref))
                writer.add("exp_avg_sq." + spec.name, shape: spec.ref.shape, values: group.secondMoment.values(spec.ref))
            }
        }
        writer.metadata = ["format": "bertd-adamw", "step": String(optimizerStep)]
        do { try writer.write(to: directory.appendingPathComponent(Self.optimizerName)) } catch let error as BertError {
            throw TrainingDataError(.ioError, error.message)
        }
    }

    /// Reads trainer_state.json, and optimizer.safetensors into `moments` (the arenas of a
    /// freshly built optimizer for the same model and method). Returns the trainer state and
    /// AdamW's step count. Every missing or mis-shaped tensor is reported at once.
    public static func read(from directory: URL, into moments: [OptimizerMoments]) throws -> (trainer: TrainerState, optimizerStep: Int) {
        let statePath = directory.appendingPathComponent(trainerStateName).path
        guard let data = FileManager.default.contents(atPath: statePath) else {
            throw TrainingDataError(.invalidCheckpoint, "\(directory.path) has no \(trainerStateName): it is not a checkpoint a run can resume from")
        }
        let trainer: TrainerState
        do { trainer = try JSONDecoder().decode(TrainerState.self, from: data) } catch {
            throw TrainingDataError(.invalidCheckpoint, "\(statePath) cannot be read: \(error)")
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: directory.appendingPathComponent(optimizerName).path) } catch let error as BertError {
            throw TrainingDataError(.invalidCheckpoint, error.message)
        }
        guard let stepText = file.metadata["step"], let step = Int(stepText), step >= 0 else {
            throw TrainingDataError(.invalidCheckpoint, "\(file.path) has no optimizer step in its metadata")
        }
        var problems: [String] = []
        for group in moments {
            for spec in group.specs {
                for (name, arena) in [("exp_avg." + spec.name, group.firstMoment), ("exp_avg_sq." + spec.name, group.secondMoment)] {
                    guard let info = file.tensors[name] else { problems.append("missing \(name)"); continue }
                    guard info.shape == spec.ref.shape else { problems.append("\(name) has shape \(info.shape), expected \(spec.ref.shape)"); continue }
                    try file.readFloats(name, into: arena[spec.ref])
                }
            }
        }
        guard problems.isEmpty else {
            throw TrainingDataError(.invalidCheckpoint, "\(file.path) does not fit this model and training method: " + problems.prefix(10).joined(separator: "; ") + (problems.count > 10 ? "; …" : ""))
        }
        return (trainer, step)
    }
}
