import BertCore
import BertExplanations
import BertProtocol
import BertTokenizers
import BertTraining

/// A classify/embed request whose texts are queued or computing. Owned by the I/O thread.
final class PendingRequest {
    let id: JSON
    let op: Op
    let inference: Inference
    /// Where it came from: the reply goes there, and its work is withdrawn if that client leaves.
    let origin: Origin
    let model: LoadedModel
    let startedAt: Double
    /// Per text: how many tokens went in, and whether truncation cut it.
    let tokenCounts: [Int]
    let truncated: [Bool]
    /// Zero-shot: the labels, and which of them were queued for embedding (slots after the texts).
    let zeroShotLabels: [String]?
    let queuedLabels: [String]
    /// Zero-shot: label embeddings that were cached when the request arrived.
    let knownLabels: [String: [Float]]
    /// Long documents: how many windows (slots) each text has, and how they aggregate; nil:
    /// one slot per text.
    let windows: (counts: [Int], aggregation: WindowAggregation)?
    /// Slots that hold the texts' windows (the queued labels follow them).
    let textSlots: Int
    /// Long documents: each window's token count (the weighted mean's weights).
    var windowTokens: [Int] = []

    /// explain: the request, each text as it is read (the encoding the reply shows, a long text's
    /// windows and how they combine), its slots (one per window), and what the compute thread
    /// produced per slot.
    var explanation: ExplainRequest?
    var texts: [ExplainedSequences] = []
    var explanationSlots: [Range<Int>] = []
    var attributions: [IntegratedGradientsResult?] = []
    var maps: [AttentionMaps?] = []

    var outputs: [[Float]?]
    var remaining: Int
    var failure: ProtocolError?

    init(id: JSON, op: Op, inference: Inference, origin: Origin, model: LoadedModel, startedAt: Double,
         tokenCounts: [Int], truncated: [Bool], zeroShotLabels: [String]?, queuedLabels: [String],
         knownLabels: [String: [Float]], windows: (counts: [Int], aggregation: WindowAggregation)? = nil, textSlots: Int? = nil) {
        self.id = id
        self.op = op
        self.inference = inference
        self.origin = origin
        self.model = model
        self.startedAt = startedAt
        self.tokenCounts = tokenCounts
        self.truncated = truncated
        self.zeroShotLabels = zeroShotLabels
        self.queuedLabels = queuedLabels
        self.knownLabels = knownLabels
        self.windows = windows
        self.textSlots = textSlots ?? tokenCounts.count
        outputs = Array(repeating: nil, count: self.textSlots + queuedLabels.count)
        remaining = outputs.count
    }
}
