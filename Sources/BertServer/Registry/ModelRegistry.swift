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

    /// Loads a model directory as `entry` says (call off the I/O thread). The version is assigned
    /// on install.
    static func load(_ entry: ServerConfiguration.ModelEntry) throws -> ServedEngine {
        try ServedEngine.load(directory: URL(fileURLWithPath: entry.path), precision: entry.precision, force: entry.force,
                              longDocuments: entry.longDocuments)
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
