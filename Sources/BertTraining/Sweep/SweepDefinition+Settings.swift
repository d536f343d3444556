import Foundation

/// A daemon job's sweep, carried in its `options` beside the base settings of every point:
/// `sweep_grid` ("lr=1e-5,3e-5;batch-size=16,32": axes as `bertctl sweep --grid` takes them,
/// joined by ";"), `sweep_ranges` (the same for `--range`), `sweep_random`, `sweep_seeds`,
/// `sweep_halving` and `sweep_max_minutes`. Any of them makes the job a sweep.
extension SweepDefinition {
    public static let settingKeys = ["sweep_grid", "sweep_ranges", "sweep_random", "sweep_seeds", "sweep_halving", "sweep_max_minutes"]

    /// Whether these settings describe a sweep.
    public static func isSweep(_ settings: TrainingSettings) -> Bool {
        settingKeys.contains { settings.values[$0] != nil }
    }

    /// The sweep these job settings describe (the other settings are every point's base), and
    /// its time budget in seconds.
    public static func fromJob(model: String, train: String, validation: String?,
                               settings: TrainingSettings) throws -> (definition: SweepDefinition, maxSeconds: Double?) {
        func text(_ key: String) throws -> [String] {
            guard let value = settings.values[key] else { return [] }
            guard case .string(let s) = value else { throw TrainingDataError(.invalidOption, "\"\(key)\" must be a string") }
            return s.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        func integer(_ key: String) throws -> Int? {
            guard let value = settings.values[key] else { return nil }
            guard case .integer(let i) = value, i >= 1 else { throw TrainingDataError(.invalidOption, "\"\(key)\" must be a positive integer") }
            return i
        }
        var base = settings
        for key in settingKeys { base.values[key] = nil }
        var halving = false
        if let value = settings.values["sweep_halving"] {
            guard case .bool(let b) = value else { throw TrainingDataError(.invalidOption, "\"sweep_halving\" must be true or false") }
            halving = b
        }
        var maxSeconds: Double?
        if let value = settings.values["sweep_max_minutes"] {
            let minutes: Double
            switch value {
            case .number(let d): minutes = d
            case .integer(let i): minutes = Double(i)
            default: throw TrainingDataError(.invalidOption, "\"sweep_max_minutes\" must be a number")
            }
            guard minutes > 0 else { throw TrainingDataError(.invalidOption, "\"sweep_max_minutes\" must be positive") }
            maxSeconds = minutes * 60
        }
        let definition = try SweepDefinition(model: model, train: train, validation: validation, base: base,
                                             grid: try text("sweep_grid").map(GridAxis.init(parsing:)),
                                             ranges: try text("sweep_ranges").map(RangeAxis.init(parsing:)),
                                             randomPoints: try integer("sweep_random"), seeds: try integer("sweep_seeds") ?? 1,
                                             halving: halving)
        return (definition, maxSeconds)
    }
}
