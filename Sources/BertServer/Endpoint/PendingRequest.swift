import BertProtocol

/// A classify/embed request whose texts are queued or computing. Owned by the I/O thread.
final class PendingRequest {
    /// The frames before the body (peer identity, delimiter), sent back in front of the reply.
    let envelope: [[UInt8]]
    let socketIndex: Int
    /// The client connection it came in on (nil: untracked), to withdraw it if the client leaves.
    let connection: ConnectionTracker.Connection?
    let request: Request
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

    var outputs: [[Float]?]
    var remaining: Int
    var failure: ProtocolError?

    init(envelope: [[UInt8]], socketIndex: Int, connection: ConnectionTracker.Connection?, request: Request, model: LoadedModel, startedAt: Double,
         tokenCounts: [Int], truncated: [Bool], zeroShotLabels: [String]?, queuedLabels: [String],
         knownLabels: [String: [Float]]) {
        self.envelope = envelope
        self.socketIndex = socketIndex
        self.connection = connection
        self.request = request
        self.model = model
        self.startedAt = startedAt
        self.tokenCounts = tokenCounts
        self.truncated = truncated
        self.zeroShotLabels = zeroShotLabels
        self.queuedLabels = queuedLabels
        self.knownLabels = knownLabels
        outputs = Array(repeating: nil, count: tokenCounts.count + queuedLabels.count)
        remaining = outputs.count
    }
}
