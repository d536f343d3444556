import BertCore
import BertTokenizers
import Foundation

/// A Hugging Face model directory loaded as one thing: tokenizer, encoder, optional
/// classification head and labels. Immutable, so one instance serves every thread; each
/// caller passes its own `Workspace` (not thread-safe) to the compute methods.
public final class TextModel: @unchecked Sendable {
    public let directory: URL
    public let model: TransformerModel
    public let tokenizer: Tokenizer
    /// How texts longer than the model takes are read: config.json's `long_documents`, or what
    /// `readingLongDocuments` set; nil: they are truncated (or refused).
    public let longDocuments: LongDocumentPolicy?

    public var labels: [String] { model.labels }
    public var canClassify: Bool { model.canClassify }
    /// Tokens per sequence the model takes, special tokens included.
    public var maxSequenceLength: Int { model.config.maxSequenceLength }

    /// The encoder's arithmetic (`model.precision`).
    public var precision: Precision { model.precision }

    /// Loads the directory to compute in `precision` (int8: see `Precision`; whether an int8
    /// model is good enough is the quantization gate's question, not the loader's).
    public init(directory: URL, precision: Precision = .fp32) throws {
        self.directory = directory
        model = try ModelLoader.load(directory: directory, precision: precision)
        do {
            tokenizer = try Tokenizer(directory: directory)
        } catch let error as TokenizerError {
            throw BertError(.notAModel, "\(directory.path): \(error.description)")
        }
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw BertError(.weightMismatch, "the tokenizer has \(tokenizer.vocabularySize) tokens but the model's vocabulary has \(model.config.vocabSize)")
        }
        longDocuments = model.config.longDocuments
    }

    private init(directory: URL, model: TransformerModel, tokenizer: Tokenizer, longDocuments: LongDocumentPolicy?) {
        (self.directory, self.model, self.tokenizer, self.longDocuments) = (directory, model, tokenizer, longDocuments)
    }

    /// The same model reading long texts by `policy` instead of config.json's (window 0 and
    /// `LongDocumentPolicy.quarterOverlap` resolve against this model); throws when the window
    /// does not fit the model or the overlap leaves no new tokens.
    public func readingLongDocuments(_ policy: LongDocumentPolicy) throws -> TextModel {
        let resolved = policy.resolved(maxSequenceLength: maxSequenceLength)
        try resolved.validate(maxSequenceLength: maxSequenceLength)
        return TextModel(directory: directory, model: model, tokenizer: tokenizer, longDocuments: resolved)
    }

    /// The model explanations (and anything else needing fp32 weights and gradients) run on:
    /// this one, or, for an int8 model loaded without its fp32 dense weights, the directory
    /// loaded again in fp32 (explanations are computed in fp32 either way).
    public func explanationModel() throws -> TransformerModel {
        model.fp32WeightsReleased ? try ModelLoader.load(directory: directory, precision: .fp32) : model
    }

    /// The same model computing in `precision`; the tokenizer and the fp32 weights are shared.
    public func converted(to precision: Precision) -> TextModel {
        precision == self.precision
            ? self : TextModel(directory: directory, model: model.converted(to: precision), tokenizer: tokenizer, longDocuments: longDocuments)
    }

    public func makeWorkspace() -> Workspace { model.makeWorkspace() }

    /// One text (or text pair), tokenized for this model.
    public struct Input: Sendable {
        public var encoding: Encoding
        /// Tokens that truncation removed (0 when the text fit).
        public var truncatedTokens: Int { encoding.truncatedTokenCount }
    }

    /// Tokenizes a text (and optional pair). With `truncate` false, a text longer than the model
    /// takes is an error instead of being cut to `maxSequenceLength`.
    public func prepare(_ text: String, pair: String? = nil, truncate: Bool = true, maxLength: Int? = nil) throws -> Input {
        let limit = min(maxLength ?? maxSequenceLength, maxSequenceLength)
        if truncate {
            return Input(encoding: tokenizer.encode(text, pair: pair, maxLength: limit))
        }
        let encoding = tokenizer.encode(text, pair: pair, maxLength: 0)
        guard encoding.ids.count <= limit else {
            throw BertError(.invalidInput, "the text has \(encoding.ids.count) tokens; the model takes at most \(limit) (allow truncation to cut it)")
        }
        return Input(encoding: encoding)
    }

    public func batch(_ inputs: [Input]) -> TokenBatch {
        var batch = TokenBatch()
        for input in inputs { batch.append(ids: input.encoding.ids, typeIds: input.encoding.typeIds) }
        return batch
    }

    /// Logits → scores as the model's config says: softmax, a sigmoid per label (multi-label,
    /// with its decision thresholds), or the value itself (regression).
    public func classify(_ inputs: [Input], workspace: Workspace) throws -> [Classification] {
        let logits = try model.classify(batch(inputs), workspace: workspace)
        return zip(inputs, logits).map { input, row in
            Classification(logits: row, model: model, truncatedTokens: input.truncatedTokens)
        }
    }

    /// Normalised mean-pooled sentence embeddings.
    public func embed(_ inputs: [Input], workspace: Workspace) throws -> [[Float]] {
        try model.embed(batch(inputs), workspace: workspace)
    }
}
