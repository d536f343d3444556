/// The dynamic batcher's limits (the `[batching]` section of the configuration).
public struct BatchLimits: Sendable, Equatable {
    /// Tokens per padding-free batch (the sum of the sequences' lengths).
    public var maxBatchTokens: Int
    /// Sequences per batch.
    public var maxBatchRequests: Int
    /// How long the batch former may wait for more work when the engine is idle (0: never).
    public var maxDelayMs: Int
    /// Admission control: tokens and sequences waiting; past either, requests get `overloaded`.
    public var maxQueueTokens: Int
    public var maxQueueRequests: Int

    public init(maxBatchTokens: Int = 8192, maxBatchRequests: Int = 64, maxDelayMs: Int = 0,
                maxQueueTokens: Int = 262_144, maxQueueRequests: Int = 4096) {
        self.maxBatchTokens = maxBatchTokens
        self.maxBatchRequests = maxBatchRequests
        self.maxDelayMs = maxDelayMs
        self.maxQueueTokens = maxQueueTokens
        self.maxQueueRequests = maxQueueRequests
    }
}
