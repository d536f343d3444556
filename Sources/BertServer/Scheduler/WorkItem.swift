import BertCore
import BertTraining

/// One text to run through a model: the unit the scheduler batches. Created and consumed by the
/// I/O thread; the compute thread fills `output` (or `failure`) between submission and
/// completion, and the scheduler's lock orders the two.
final class WorkItem: @unchecked Sendable {
    enum Kind: Sendable {
        case logits      // classification head
        case embedding   // mean-pooled, normalised sentence embedding
        case attention   // every layer's attention maps (explain)
        case attribution // integrated gradients (explain): many sequences per text, computed in chunks
        case linear      // a linear baseline's logits, from the text itself
    }

    /// What integrated gradients needs besides the tokens.
    struct Attribution: Sendable {
        var special: [Bool]
        var targets: AttributionTargets
        var steps: Int
        var rule: IntegrationRule
        var baseline: AttributionBaseline
        /// Zero-shot: the candidate labels' tokens (their embeddings are what the text is compared with).
        var zeroShotLabels: [(ids: [Int32], typeIds: [Int32])]?
        /// A window of a long text: the document whose prediction decides `.predicted` targets.
        var document: DocumentTargets?

        /// Sequences of work: the two endpoints and steps points per target (one target when
        /// the prediction picks it).
        var sequences: Int {
            let labels = zeroShotLabels?.count ?? 0
            if case .labels(let l) = targets { return labels + 2 + l.count * steps }
            return labels + 2 + steps
        }
    }

    let model: LoadedModel
    let kind: Kind
    let ids: [Int32]
    let typeIds: [Int32]
    /// `.linear`: the text (a baseline reads characters, not token ids).
    let text: String?
    /// Monotonic seconds after which the work is dropped unserved (nil: no deadline).
    let deadline: Double?
    let enqueuedAt: Double
    /// Who is waiting for it: the request it belongs to and its slot there.
    let owner: AnyObject
    let slot: Int

    var output: [Float] = []
    var failure: ProtocolFailure?
    /// explain: the request (attribution), the run in progress, and the outputs.
    let attribution: Attribution?
    var run: IntegratedGradientsRun?
    var attributions: IntegratedGradientsResult?
    var maps: AttentionMaps?

    /// Tokens of work still to do: the text's, or for an attribution every remaining point's.
    var tokenCount: Int

    init(model: LoadedModel, kind: Kind, ids: [Int32], typeIds: [Int32], deadline: Double?, enqueuedAt: Double,
         owner: AnyObject, slot: Int, attribution: Attribution? = nil, text: String? = nil) {
        self.model = model
        self.kind = kind
        self.ids = ids
        self.typeIds = typeIds
        self.attribution = attribution
        self.text = text
        // A text for a baseline counts as its bytes / 4 (about its tokens) in the queue's budget.
        tokenCount = text.map { max(1, $0.utf8.count / 4) } ?? ids.count * (attribution?.sequences ?? 1)
        self.deadline = deadline
        self.enqueuedAt = enqueuedAt
        self.owner = owner
        self.slot = slot
    }
}

/// Why a work item was not computed.
enum ProtocolFailure: Sendable {
    case deadlineExceeded
    case shuttingDown
    case computeError(String)
}
