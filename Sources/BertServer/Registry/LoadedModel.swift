import BertCore
import BertPipeline
import Foundation

/// A model the daemon serves under a name. Immutable: loading a new version under the same name
/// makes a new LoadedModel, and work already queued finishes on the one it was queued with.
public final class LoadedModel: @unchecked Sendable {
    public let name: String
    public let path: String
    public let version: Int
    public let textModel: TextModel
    public let loadedAt: Date
    /// Embeddings of zero-shot label texts, computed once per label. Touched by the I/O thread only.
    var labelEmbeddings = LabelEmbeddingCache()

    init(name: String, path: String, version: Int, textModel: TextModel) {
        self.name = name
        self.path = path
        self.version = version
        self.textModel = textModel
        loadedAt = Date()
    }

    public var family: String { textModel.model.family.modelType }
    public var labels: [String] { textModel.labels }
    public var parameterCount: Int { textModel.model.parameterCount }
}
