import BertCore
import BertPipeline
import Foundation

/// The models being served, by name. Used from the I/O thread only; loading (slow: reading
/// and converting weights) happens on a loader thread that hands the result back.
final class ModelRegistry {
    private(set) var models: [String: LoadedModel] = [:]
    private var versions: [String: Int] = [:]
    var defaultName: String

    init(defaultName: String) { self.defaultName = defaultName }

    /// The model for a request: by name, or the default one.
    func resolve(_ name: String?) -> LoadedModel? { models[name ?? defaultName] }

    /// Loads a model directory (call off the I/O thread). The version is assigned on install.
    static func load(name: String, path: String, precision: Precision = .fp32, force: Bool = false) throws -> ServedEngine {
        try ServedEngine.load(directory: URL(fileURLWithPath: path), precision: precision, force: force)
    }

    /// Puts a freshly loaded model in place under its name; returns it.
    @discardableResult
    func install(name: String, path: String, engine: ServedEngine) -> LoadedModel {
        let version = (versions[name] ?? 0) + 1
        versions[name] = version
        let model = LoadedModel(name: name, path: path, version: version, engine: engine)
        models[name] = model
        return model
    }

    @discardableResult
    func remove(_ name: String) -> LoadedModel? { models.removeValue(forKey: name) }

    var sortedModels: [LoadedModel] { models.values.sorted { $0.name < $1.name } }
}
