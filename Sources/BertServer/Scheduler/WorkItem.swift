import BertCore

/// One text to run through a model: the unit the scheduler batches. Created and consumed by the
/// I/O thread; the compute thread fills `output` (or `failure`) between submission and
/// completion, and the scheduler's lock orders the two.
final class WorkItem: @unchecked Sendable {
    enum Kind: Sendable {
        case logits      // classification head
        case embedding   // mean-pooled, normalised sentence embedding
    }

    let model: LoadedModel
    let kind: Kind
    let ids: [Int32]
    let typeIds: [Int32]
    /// Monotonic seconds after which the work is dropped unserved (nil: no deadline).
    let deadline: Double?
    let enqueuedAt: Double
    /// Who is waiting for it: the request it belongs to and its slot there.
    let owner: AnyObject
    let slot: Int

    var output: [Float] = []
    var failure: ProtocolFailure?

    var tokenCount: Int { ids.count }

    init(model: LoadedModel, kind: Kind, ids: [Int32], typeIds: [Int32], deadline: Double?, enqueuedAt: Double,
         owner: AnyObject, slot: Int) {
        self.model = model
        self.kind = kind
        self.ids = ids
        self.typeIds = typeIds
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
