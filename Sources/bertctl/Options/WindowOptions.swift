import ArgumentParser
import BertCore
import BertProtocol

/// `--window/--stride/--aggregate`: read texts longer than a window as overlapping windows whose
/// logits are aggregated, in this process or (`load`) in the daemon. Without them, the model's
/// own `long_documents` (config.json; training with windows writes it) decides, else truncation.
struct WindowOptions: ParsableArguments {
    @Option(help: "Read long texts as overlapping windows of this many tokens (0: the model's maximum), aggregating their logits.")
    var window: Int?
    @Option(help: "With windows: tokens consecutive windows share (default: a quarter of the window).")
    var stride: Int?
    @Option(help: "With windows: how a text's logits come from its windows' (mean, max or weighted).")
    var aggregate: WindowAggregation?

    func validate() throws {
        if let window, window != 0, window < 8 { throw ValidationError("--window must be 0 (the model's maximum) or at least 8 tokens") }
        if let stride, stride < 0 { throw ValidationError("--stride must not be negative") }
    }

    /// The policy for a model: these options over the model's own, or nil (truncate).
    func policy(model: LongDocumentPolicy?, maxSequenceLength: Int) throws -> LongDocumentPolicy? {
        guard window != nil || stride != nil || aggregate != nil else { return model }
        let policy = LongDocumentPolicy.overriding(model, window: window, overlap: stride, aggregation: aggregate)
            .resolved(maxSequenceLength: maxSequenceLength)
        do { try policy.validate(maxSequenceLength: maxSequenceLength) } catch let e as BertError { throw ValidationError(e.message) }
        return policy
    }

    /// What a `load` request asks the daemon for, or nil (config.json decides).
    var settings: LongDocumentSettings? {
        guard window != nil || stride != nil || aggregate != nil else { return nil }
        return LongDocumentSettings(window: window, stride: stride, aggregate: aggregate?.rawValue)
    }
}
