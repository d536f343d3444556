import BertCore

/// Long documents: a text longer than the model's window becomes several windows, and its
/// logits (or embedding) aggregate theirs (`LongDocumentPolicy`).
extension TextModel {
    /// The windows of one text under `policy` (one window when it fits); without a policy, the
    /// text as `prepare` gives it (truncated or refused). A pair goes whole into every window of
    /// its text; a pair that leaves no room for the text is refused.
    public func prepareWindows(_ text: String, pair: String? = nil, truncate: Bool = true,
                               policy: LongDocumentPolicy?) throws -> [Input] {
        guard let policy else { return [try prepare(text, pair: pair, truncate: truncate)] }
        try policy.validate(maxSequenceLength: maxSequenceLength)
        guard let windows = tokenizer.encodeWindows(text, pair: pair, maxLength: policy.window, overlap: policy.overlap) else {
            throw BertError(.invalidInput, "the pair text leaves no room for windows of \(policy.window) tokens with an overlap of \(policy.overlap)")
        }
        return windows.map { Input(encoding: $0) }
    }

    /// Classifies documents given as their windows: every window of every document in one
    /// padding-free batch, each document's logits aggregated from its windows'.
    public func classify(documents: [[Input]], aggregation: WindowAggregation, workspace: Workspace) throws -> [Classification] {
        let windows = documents.flatMap { $0 }
        let rows = try model.classify(batch(windows), workspace: workspace)
        let groups = WindowGroups(counts: documents.map(\.count), tokens: windows.map { $0.encoding.ids.count })
        return zip(documents, aggregateWindows(rows, groups: groups, aggregation: aggregation)).map { document, logits in
            var c = Classification(logits: logits, model: model, truncatedTokens: document.count == 1 ? document[0].truncatedTokens : 0)
            c.windows = document.count
            return c
        }
    }

    /// Normalised embeddings of documents: each the normalised aggregate of its windows'
    /// normalised embeddings (so a one-window document gets exactly `embed`'s vector).
    public func embed(documents: [[Input]], aggregation: WindowAggregation, workspace: Workspace) throws -> [[Float]] {
        let windows = documents.flatMap { $0 }
        let rows = try model.embed(batch(windows), workspace: workspace)
        let groups = WindowGroups(counts: documents.map(\.count), tokens: windows.map { $0.encoding.ids.count })
        return aggregateWindowEmbeddings(rows, groups: groups, aggregation: aggregation)
    }
}

/// Documents' embeddings from their windows' normalised embeddings: aggregated, then normalised
/// again (a one-window document keeps its vector exactly).
public func aggregateWindowEmbeddings(_ rows: [[Float]], groups: WindowGroups, aggregation: WindowAggregation) -> [[Float]] {
    zip(groups.counts, aggregateWindows(rows, groups: groups, aggregation: aggregation)).map { count, vector in
        count == 1 ? vector : normalised(vector)
    }
}

/// v / ‖v‖ (v itself when it is zero).
func normalised(_ v: [Float]) -> [Float] {
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return norm > 0 ? v.map { $0 / norm } : v
}
