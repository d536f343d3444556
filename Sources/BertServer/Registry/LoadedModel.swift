import BertBaselines
import BertCore
import BertPipeline
import BertProtocol
import Foundation

/// What a served model directory holds: a transformer (a Hugging Face directory) or a linear
/// baseline (`baseline.json`, BertBaselines' own format).
public enum ServedEngine: Sendable {
    case transformer(TextModel)
    case linear(LinearBaseline)

    /// Loads a directory of either kind (call off the I/O thread). A transformer in int8 needs the
    /// directory's quantization.json to record a passed gate for its weights, unless `force`.
    /// `longDocuments` changes config.json's way of reading long texts.
    static func load(directory: URL, precision: Precision = .fp32, force: Bool = false,
                     longDocuments: LongDocumentSettings? = nil) throws -> ServedEngine {
        if LinearBaseline.isBaselineDirectory(directory) {
            guard precision == .fp32 else {
                throw BertError(.unsupportedModel, "\(directory.path) is a linear baseline: it has no \(precision.rawValue) form")
            }
            guard longDocuments == nil else {
                throw BertError(.unsupportedModel, "\(directory.path) is a linear baseline: it reads whole texts, not windows")
            }
            return .linear(try LinearBaseline(directory: directory))
        }
        if !force {
            do {
                try QuantizationRecord.requireServable(directory: directory, precision: precision)
            } catch let error as BertError {
                throw QuantizationGateRefusal(message: error.message)
            }
        }
        let model = try TextModel(directory: directory, precision: precision)
        return .transformer(try longDocuments.map { try $0.apply(to: model) } ?? model)
    }
}

/// An int8 load refused for want of a passed quality gate (the reply's `quantization_gate`).
struct QuantizationGateRefusal: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A model the daemon serves under a name. Immutable: loading a new version under the same name
/// makes a new LoadedModel, and work already queued finishes on the one it was queued with.
public final class LoadedModel: @unchecked Sendable {
    public let name: String
    public let path: String
    public let version: Int
    public let engine: ServedEngine
    public let loadedAt: Date
    /// Embeddings of zero-shot label texts, computed once per label. Touched by the I/O thread only.
    var labelEmbeddings = LabelEmbeddingCache()

    init(name: String, path: String, version: Int, engine: ServedEngine) {
        self.name = name
        self.path = path
        self.version = version
        self.engine = engine
        loadedAt = Date()
    }

    /// The transformer, or nil for a linear baseline.
    public var textModel: TextModel? {
        if case .transformer(let model) = engine { return model }
        return nil
    }

    /// The linear baseline, or nil for a transformer.
    public var baseline: LinearBaseline? {
        if case .linear(let model) = engine { return model }
        return nil
    }

    public var family: String { textModel?.model.family.modelType ?? LinearBaseline.kind }
    public var labels: [String] { textModel?.labels ?? baseline?.labels ?? [] }
    public var parameterCount: Int { textModel?.model.parameterCount ?? baseline?.parameterCount ?? 0 }
    public var canClassify: Bool { textModel?.canClassify ?? true }
    /// The encoder's arithmetic (a linear baseline's float32 weights: fp32).
    public var precision: Precision { textModel?.precision ?? .fp32 }

    /// How scores come from the logits.
    public var scoring: ModelConfig.Scoring {
        if let textModel { return textModel.model.config.scoring }
        return baseline?.scoring ?? .softmax
    }

    /// The scores of one text's logits, as this model's config says.
    func classification(logits: [Float]) -> Classification {
        if let textModel { return Classification(logits: logits, model: textModel.model, truncatedTokens: 0) }
        return Classification(labels: labels, logits: logits, scoring: scoring, truncatedTokens: 0)
    }
}
