import BertBaselines
import BertCore
import BertPipeline
import BertTraining
import Foundation

/// The dynamic-batching scheduler: a bounded queue of work items and the compute thread that
/// drains it in padding-free batches.
///
/// The batch former takes the oldest item and every later item for the same model and kind,
/// up to the token budget and the sequence cap. It never waits while the engine is idle and
/// work is queued, unless `maxDelayMs` asks it to; while a batch computes, arrivals accumulate
/// into the next one. Items whose deadline has passed are dropped before compute.
final class Scheduler: @unchecked Sendable {
    struct Snapshot: Sendable {
        var queuedItems = 0
        var queuedTokens = 0
        var batches = 0
        var batchedItems = 0
        var batchedTokens = 0
        var expired = 0
        /// A training job holds the compute thread (between its steps it serves requests).
        var training = false
        /// Texts taken back from the queue because their client disconnected.
        var withdrawn = 0
        var busy = false
    }

    private let lock = NSCondition()
    private var queue: [WorkItem] = []
    /// Training jobs waiting for the compute thread (one runs at a time, in order).
    private var training: [@Sendable (TrainingContext) -> Void] = []
    private var queuedTokens = 0
    /// Owners withdrawn while a batch computed (see `withdraw`).
    private var departedDuringBatch: Set<ObjectIdentifier> = []
    private var limits: BatchLimits
    private var running = false
    private var stats = Snapshot()
    private var thread: Thread?
    private let finished = NSCondition()
    private var threadDone = false

    /// Called on the compute thread with every item that is done (computed, expired or failed).
    private let complete: @Sendable ([WorkItem]) -> Void
    /// Called on the compute thread after each computed batch (the metrics).
    private let batchDone: @Sendable (BatchRecord) -> Void

    /// One computed batch: its texts and tokens, its compute time, and each text's time in the queue.
    struct BatchRecord {
        var texts: Int
        var tokens: Int
        var seconds: Double
        var waits: [Double]
    }
    /// Called on the compute thread at least every `heartbeatInterval` while it runs (systemd watchdog).
    private let heartbeat: @Sendable () -> Void
    private let heartbeatInterval: Double

    init(limits: BatchLimits, heartbeatInterval: Double = 1.0,
         heartbeat: @escaping @Sendable () -> Void = {}, complete: @escaping @Sendable ([WorkItem]) -> Void,
         batchDone: @escaping @Sendable (BatchRecord) -> Void = { _ in }) {
        self.limits = limits
        self.batchDone = batchDone
        self.heartbeatInterval = heartbeatInterval
        self.heartbeat = heartbeat
        self.complete = complete
    }

    func start() {
        lock.lock()
        running = true
        lock.unlock()
        let t = Thread { [self] in computeLoop() }
        t.name = "bertd-compute"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    /// Stops the compute thread after its current batch; queued items complete as shuttingDown.
    func stop() {
        lock.lock()
        running = false
        lock.broadcast()
        lock.unlock()
        finished.lock()
        while thread != nil && !threadDone { finished.wait() }
        finished.unlock()
    }

    func update(limits newLimits: BatchLimits) {
        lock.lock()
        limits = newLimits
        lock.broadcast()
        lock.unlock()
    }

    var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        var s = stats
        s.queuedItems = queue.count
        s.queuedTokens = queuedTokens
        return s
    }

    /// Admits all of a request's items or none: past the queue bounds it is `overloaded` at once.
    /// With `wake` false the compute thread is not woken yet: the I/O thread submits everything
    /// it read in one pass and then calls `wake()`, so requests that arrived together are
    /// batched together instead of the first one racing ahead alone.
    func submit(_ items: [WorkItem], wake: Bool = true) -> Bool {
        let tokens = items.reduce(0) { $0 + $1.tokenCount }
        lock.lock()
        defer { lock.unlock() }
        guard running,
              queuedTokens + tokens <= limits.maxQueueTokens || queue.isEmpty,
              queue.count + items.count <= limits.maxQueueRequests || queue.isEmpty
        else { return false }
        queue.append(contentsOf: items)
        queuedTokens += tokens
        if wake { lock.signal() }
        return true
    }

    /// Takes back the queued items of these requests (their client has gone); returns how many.
    /// Items already in the computing batch still complete.
    func withdraw(owners: Set<ObjectIdentifier>) -> Int {
        lock.lock()
        defer { lock.unlock() }
        // An explanation in the computing batch would go back to the queue after its chunk: it
        // must not (owners are remembered until that batch is done).
        if stats.busy { departedDuringBatch.formUnion(owners) }
        var tokens = 0
        let before = queue.count
        queue.removeAll { item in
            guard owners.contains(ObjectIdentifier(item.owner)) else { return false }
            tokens += item.tokenCount
            return true
        }
        queuedTokens -= tokens
        stats.withdrawn += before - queue.count
        return before - queue.count
    }

    /// Wakes the compute thread for work submitted with `wake: false`.
    func wake() {
        lock.lock()
        lock.signal()
        lock.unlock()
    }

    // MARK: compute thread

    /// Compute thread only: activation buffers per model, and when the watchdog was last fed.
    private var workspaces: [WorkspaceSlot] = []
    private var lastBeat = 0.0

    private func computeLoop() {
        lock.lock()
        while running {
            let now = monotonicSeconds()
            if now - lastBeat >= heartbeatInterval {
                lock.unlock(); heartbeat(); lock.lock()
                lastBeat = now
                continue
            }
            guard let head = queue.first else {
                if !training.isEmpty {
                    // No request is waiting: train. The job calls serveWaiting() between its
                    // steps, so requests that arrive meanwhile still go first.
                    let work = training.removeFirst()
                    stats.training = true
                    lock.unlock()
                    work(TrainingContext(scheduler: self))
                    lock.lock()
                    stats.training = false
                    continue
                }
                _ = lock.wait(until: Date(timeIntervalSinceNow: heartbeatInterval))
                continue
            }
            // Optional wait for a fuller batch, bounded by the oldest item's age.
            if limits.maxDelayMs > 0 && !batchIsFull(for: head) {
                let due = head.enqueuedAt + Double(limits.maxDelayMs) / 1000
                if now < due {
                    _ = lock.wait(until: Date(timeIntervalSinceNow: min(due - now, heartbeatInterval)))
                    continue
                }
            }
            runNextBatch(now: now)
        }
        // Shutting down: whatever is still queued is answered, not computed.
        let leftovers = queue
        queue.removeAll()
        queuedTokens = 0
        lock.unlock()
        for item in leftovers { item.failure = .shuttingDown }
        if !leftovers.isEmpty { complete(leftovers) }
        finished.lock()
        threadDone = true
        finished.broadcast()
        finished.unlock()
    }

    /// Takes the next batch, computes it and completes it; lock held on entry and on return.
    /// Attributions that still have points to compute go back to the end of the queue, so other
    /// clients' work runs between an explanation's chunks.
    private func runNextBatch(now: Double) {
        let (batch, expired) = takeBatch(now: now)
        stats.busy = !batch.isEmpty
        let batchLimits = limits
        lock.unlock()

        for item in expired { item.failure = .deadlineExceeded }
        let started = monotonicSeconds()
        let tokensBefore = batch.reduce(0) { $0 + $1.tokenCount }
        let unfinished = batch.isEmpty ? [] : run(batch, limits: batchLimits)
        let computed = monotonicSeconds()
        let tokens = tokensBefore - unfinished.reduce(0) { $0 + $1.tokenCount }
        let done = unfinished.isEmpty ? batch : batch.filter { item in !unfinished.contains { $0 === item } }

        lock.lock()  // count the batch before anyone can see its replies
        stats.busy = false
        stats.expired += expired.count
        if !batch.isEmpty {
            stats.batches += 1
            stats.batchedItems += done.count
            stats.batchedTokens += tokens
        }
        var requeued: [WorkItem] = []
        if !unfinished.isEmpty {
            if running {
                requeued = unfinished.filter { !departedDuringBatch.contains(ObjectIdentifier($0.owner)) }
                stats.withdrawn += unfinished.count - requeued.count
                queue.append(contentsOf: requeued)
                queuedTokens += requeued.reduce(0) { $0 + $1.tokenCount }
            } else {
                for item in unfinished { item.failure = .shuttingDown }
            }
        }
        departedDuringBatch.removeAll()
        lock.unlock()
        if !batch.isEmpty {
            batchDone(BatchRecord(texts: batch.count, tokens: tokens,
                                  seconds: computed - started, waits: batch.map { started - $0.enqueuedAt }))
        }
        // Withdrawn explanations complete too: their request is gone, so nobody is answered.
        complete(expired + (unfinished.isEmpty || !running ? batch : batch.filter { item in !requeued.contains { $0 === item } }))
        lock.lock()
        if monotonicSeconds() - lastBeat >= heartbeatInterval / 2 {
            lock.unlock(); heartbeat(); lock.lock()
            lastBeat = monotonicSeconds()
        }
    }

    // MARK: training

    /// What a training job on the compute thread may do besides training.
    struct TrainingContext {
        fileprivate let scheduler: Scheduler

        /// Computes every request waiting now (and feeds the watchdog); call between steps.
        func serveWaiting() { scheduler.serveWaiting() }

        /// The scheduler is stopping: end the job at its next step.
        var isStopping: Bool { scheduler.isStopping }
    }

    /// Queues training work for the compute thread, which runs it when no request is waiting.
    func submitTraining(_ work: @escaping @Sendable (TrainingContext) -> Void) {
        lock.lock()
        training.append(work)
        lock.signal()
        lock.unlock()
    }

    private func serveWaiting() {
        lock.lock()
        while running && !queue.isEmpty { runNextBatch(now: monotonicSeconds()) }
        let due = monotonicSeconds() - lastBeat >= heartbeatInterval / 2
        lock.unlock()
        if due {
            heartbeat()
            lastBeat = monotonicSeconds()
        }
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !running
    }

    private func batchIsFull(for head: WorkItem) -> Bool {
        var tokens = 0, count = 0
        for item in queue where item.model === head.model && item.kind == head.kind {
            tokens += item.tokenCount
            count += 1
            if tokens >= limits.maxBatchTokens || count >= limits.maxBatchRequests { return true }
        }
        return false
    }

    /// Takes the next batch (the head's model and kind) and every expired item; lock held.
    private func takeBatch(now: Double) -> ([WorkItem], [WorkItem]) {
        var batch: [WorkItem] = []
        var expired: [WorkItem] = []
        var rest: [WorkItem] = []
        rest.reserveCapacity(queue.count)
        var tokens = 0
        var key: (LoadedModel, WorkItem.Kind)?
        for item in queue {
            if let deadline = item.deadline, deadline < now {
                expired.append(item)
                continue
            }
            if key == nil { key = (item.model, item.kind) }
            // Attributions are taken whole: the explainer packs their next points under the budget.
            if let (model, kind) = key, item.model === model, item.kind == kind,
               batch.count < limits.maxBatchRequests,
               batch.isEmpty || kind == .attribution || tokens + item.tokenCount <= limits.maxBatchTokens {
                batch.append(item)
                tokens += item.tokenCount
            } else {
                rest.append(item)
            }
        }
        queue = rest
        queuedTokens -= tokens + expired.reduce(0) { $0 + $1.tokenCount }
        return (batch, expired)
    }

    /// A model's activation buffers, kept while the model lives (weak: unloading frees both),
    /// and its explainer, made on the first explanation.
    private final class WorkspaceSlot {
        weak var model: TransformerModel?
        let workspace: Workspace
        private var madeExplainer: Explainer?
        init(model: TransformerModel) { self.model = model; workspace = model.makeWorkspace() }

        /// An int8 model served without its fp32 dense weights is explained on an fp32 load of
        /// its directory, made here on its first explanation and kept with the slot.
        func explainer(_ textModel: TextModel) throws -> Explainer {
            if let madeExplainer { return madeExplainer }
            let explainer = Explainer(model: try textModel.explanationModel())
            madeExplainer = explainer
            return explainer
        }
    }

    /// Computes a batch; returns the attributions that have points left (the rest are done).
    private func run(_ batch: [WorkItem], limits: BatchLimits) -> [WorkItem] {
        if let baseline = batch[0].model.baseline {
            // Features and a sparse product: no workspace, no tokens.
            for (item, output) in zip(batch, baseline.logits(batch.map { $0.text ?? "" })) { item.output = output }
            return []
        }
        guard let textModel = batch[0].model.textModel else { return [] }
        let model = textModel.model
        workspaces.removeAll { $0.model == nil }
        let slot = workspaces.first { $0.model === model } ?? WorkspaceSlot(model: model)
        if !workspaces.contains(where: { $0 === slot }) { workspaces.append(slot) }
        var tokens = TokenBatch()
        for item in batch { tokens.append(ids: item.ids, typeIds: item.typeIds) }
        do {
            switch batch[0].kind {
            case .logits:
                for (item, output) in zip(batch, try model.classify(tokens, workspace: slot.workspace)) { item.output = output }
            case .embedding:
                for (item, output) in zip(batch, try model.embed(tokens, workspace: slot.workspace)) { item.output = output }
            case .attention:
                for (item, maps) in zip(batch, try slot.explainer(textModel).attention(tokens)) { item.maps = maps }
            case .attribution:
                return try advance(batch, explainer: try slot.explainer(textModel), workspace: slot.workspace, limits: limits)
            case .linear:
                for item in batch { item.failure = .computeError("a linear work item for a transformer") }
            }
        } catch {
            for item in batch { item.failure = .computeError("\(error)") }
        }
        return []
    }

    static let explanationChunkTokens = 2048

    /// One chunk of integrated gradients for these texts: at most one batch's tokens and sequences.
    private func advance(_ batch: [WorkItem], explainer: Explainer, workspace: Workspace, limits: BatchLimits) throws -> [WorkItem] {
        for item in batch where item.run == nil {
            let a = item.attribution!
            // Zero-shot: the candidate labels' embeddings, computed with the first chunk.
            let similarity = try a.zeroShotLabels.map { labels in
                try explainer.model.embed(TokenBatch(sequences: labels.map(\.ids), typeIds: labels.map(\.typeIds)), workspace: workspace)
            }
            let targets = try a.document?.resolve(a.targets, explainer: explainer, workspace: workspace) ?? a.targets
            item.run = try explainer.makeRun(ids: item.ids, typeIds: item.typeIds, special: a.special, targets: targets,
                                             steps: a.steps, rule: a.rule, baseline: a.baseline, similarity: similarity)
        }
        let runs = batch.map { $0.run! }
        // A chunk keeps every activation for its backward (~150 KB a token for MiniLM), and the
        // explainer's buffers grow to the largest chunk and stay: at most this many tokens a
        // chunk keeps that near 300 MB rather than the 1.2 GB a full 8 192-token batch would take.
        try explainer.advance(runs, maxTokens: min(limits.maxBatchTokens, Self.explanationChunkTokens),
                              maxSequences: limits.maxBatchRequests)
        var unfinished: [WorkItem] = []
        for item in batch {
            let run = item.run!
            if run.isFinished {
                item.attributions = run.result()
                item.run = nil
                item.tokenCount = 0
            } else {
                item.tokenCount = run.remainingTokens
                unfinished.append(item)
            }
        }
        return unfinished
    }
}
