import BertCore
import BertPipeline
import BertProtocol
import BertTokenizers
import BertTraining

/// One text as an explanation reads it, the same in the daemon and in-process: the sequence to
/// explain (truncated or refused as `truncate` says), or, for a model that reads long documents,
/// every window of the text, the whole text's encoding the reply shows, and how the windows'
/// attributions combine (`WindowedAttributions`).
public struct ExplainedSequences {
    /// The sequences to run: one, or a long text's windows.
    public let sequences: [Encoding]
    /// The tokens the reply shows: the sequence's, or the whole text's.
    public let shown: Encoding
    /// How a long text's windows combine; nil for one sequence.
    public let layout: WindowedAttributions?
    /// The windows the text was read in, for a model that reads long documents (as classify
    /// reports them); nil for other models.
    public var windows: Int? { policy == nil ? nil : sequences.count }
    let policy: LongDocumentPolicy?

    /// Throws `BertError` when the text cannot be read (too long with `truncate` false, or a pair
    /// that leaves no room for windows), and `ExplanationError` for a method that cannot explain
    /// a text of several windows: attention maps belong to one sequence, and a zero-shot cosine
    /// of the windows' aggregated embedding is not a sum of the windows' cosines.
    public init(_ text: String, pair: String?, textModel: TextModel, truncate: Bool, method: ExplanationMethod, zeroShot: Bool) throws {
        policy = textModel.longDocuments
        guard let policy else {
            let encoding = try textModel.prepare(text, pair: pair, truncate: truncate).encoding
            (sequences, shown, layout) = ([encoding], encoding, nil)
            return
        }
        let windows = try textModel.prepareWindows(text, pair: pair, policy: policy).map(\.encoding)
        guard windows.count > 1 else {
            (sequences, shown, layout) = (windows, windows[0], nil)
            return
        }
        guard method == .integratedGradients else {
            throw ExplanationError.invalid("attention maps are per sequence, and this model reads this text in \(windows.count) windows: explain it with integrated_gradients")
        }
        guard !zeroShot else {
            throw ExplanationError.invalid("a zero-shot explanation covers one sequence, and this model reads this text in \(windows.count) windows: explain a shorter text, or with the model's own labels")
        }
        let whole = textModel.tokenizer.encode(text, pair: pair)
        (sequences, shown) = (windows, whole)
        layout = WindowedAttributions(windows: windows, whole: whole, overlap: policy.overlap, aggregation: policy.aggregation)
    }

    /// The windows as one batch (the document forward that decides their targets).
    public var batch: TokenBatch { TokenBatch(sequences: sequences.map(\.ids), typeIds: sequences.map(\.typeIds)) }
}
