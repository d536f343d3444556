import BertCore
import BertTraining

/// The labels every window of one long text is explained for. The prediction belongs to the
/// document (its windows' logits aggregated, as classify answers), not to any one window, so the
/// first of its windows to start decides it on the compute thread and the others reuse it.
/// Touched by the compute thread only, between the I/O thread's submission and completion.
final class DocumentTargets: @unchecked Sendable {
    let windows: TokenBatch
    let aggregation: WindowAggregation
    private var labels: [Int]?

    init(windows: TokenBatch, aggregation: WindowAggregation) {
        self.windows = windows
        self.aggregation = aggregation
    }

    /// `requested` as explicit labels: decided by `Explainer.documentTargets` on first use.
    func resolve(_ requested: AttributionTargets, explainer: Explainer, workspace: Workspace) throws -> AttributionTargets {
        if labels == nil {
            labels = try explainer.documentTargets(requested, windows: windows, aggregation: aggregation, workspace: workspace)
        }
        return .labels(labels!)
    }
}
