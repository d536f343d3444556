import BertCore

/// Explanations of one classifier's decisions: integrated gradients and attention maps, from the
/// training engine's exact forward and backward (dropout off). Not thread-safe: one per thread
/// (the daemon keeps one per model on its compute thread).
///
///     let explainer = Explainer(model: model)
///     let run = try explainer.makeRun(ids: e.ids, typeIds: e.typeIds, special: e.specialTokensMask)
///     let result = try explainer.finish(run)   // result.attributions[0].tokens
public final class Explainer {
    public let model: TransformerModel
    let trainer: Trainer
    /// (T, E) scratch of a chunk: the embedded points, then their gradients.
    private var embedded: [Float] = []
    private var gradient: [Float] = []

    public init(model: TransformerModel) {
        precondition(!model.fp32WeightsReleased, "explanations need the fp32 weights: explain TextModel.explanationModel()")
        self.model = model
        trainer = Trainer(explaining: model)
    }

    /// The most steps one explanation may ask for.
    public static let maxSteps = 1024

    /// A sigmoid per label (the config's scoring): by default every label at or above 0.5 is explained.
    var multiLabel: Bool { model.config.scoring == .sigmoid }

    // MARK: integrated gradients

    /// Prepares integrated gradients for one sequence (special tokens marked, as the tokenizer's
    /// `specialTokensMask`): validates the request and embeds the input and its baseline.
    /// - Parameter similarity: zero-shot, for an encoder with or without a head: the candidate
    ///   labels' sentence embeddings (normalised, width H); the explained outputs are their
    ///   cosines with the text's embedding.
    public func makeRun(ids: [Int32], typeIds: [Int32]? = nil, special: [Bool], targets: AttributionTargets = .predicted,
                        steps: Int = 32, rule: IntegrationRule = .gaussLegendre, baseline: AttributionBaseline = .pad,
                        similarity: [[Float]]? = nil) throws -> IntegratedGradientsRun {
        let h = model.config.hiddenSize
        if let similarity {
            guard !similarity.isEmpty, similarity.allSatisfy({ $0.count == h }) else {
                throw ExplanationError.invalid("zero-shot explanations need at least one label vector of width \(h)")
            }
        } else if model.embeddingHead == nil, !model.hasClassificationHead {
            throw ExplanationError.invalid("this model has no classification head: give candidate labels to explain it zero-shot")
        }
        // A few-shot head's logits W·u + b are the "cosines" of u with W's rows plus b.
        let vectors = similarity ?? headRows
        let outputs = vectors?.count ?? model.numLabels
        guard (1...Self.maxSteps).contains(steps) else {
            throw ExplanationError.invalid("steps must be within 1…\(Self.maxSteps) (got \(steps))")
        }
        guard special.count == ids.count else { throw ExplanationError.invalid("one special-token flag per token is needed") }
        if case .labels(let labels) = targets {
            guard !labels.isEmpty else { throw ExplanationError.invalid("no label to explain") }
            if let bad = labels.first(where: { !(0..<outputs).contains($0) }) {
                throw ExplanationError.invalid("label index \(bad) is outside 0..<\(outputs)")
            }
        }
        let types = typeIds ?? [Int32](repeating: 0, count: ids.count)
        let batch = TokenBatch(sequences: [ids], typeIds: [types])
        try model.validate(batch)
        let input = trainer.embeddingsModuleOutput(batch)
        let reference: [Float]
        switch baseline {
        case .pad:
            let pad = Int32(model.config.padTokenId)
            let baselineIds = zip(ids, special).map { $1 ? $0 : pad }
            reference = trainer.embeddingsModuleOutput(TokenBatch(sequences: [baselineIds], typeIds: [types]))
        case .zero:
            reference = trainer.embeddingsModuleOutput(batch, zeroWords: special.map { !$0 })
        }
        return try IntegratedGradientsRun(ids: ids, typeIds: types, special: special, targets: targets, steps: steps, rule: rule,
                                          baseline: baseline, input: input, reference: reference, width: model.tree.embeddings.width,
                                          similarity: vectors.map { $0.flatMap { $0 } }, outputs: outputs,
                                          outputBias: similarity == nil ? model.embeddingHead?.bias : nil)
    }

    /// A few-shot model's head as label vectors: row c of W scores class c (its bias is added to
    /// the outputs, which changes no gradient).
    private var headRows: [[Float]]? {
        model.embeddingHead.map { head in (0..<head.classes).map { Array(head.row($0)) } }
    }

    /// Computes the next points of `runs` in one padding-free batch of at most `maxTokens` tokens
    /// and `maxSequences` sequences (at least one sequence, whatever its length). Runs that have
    /// not started get their endpoints (x and x′, forward only) first. Runs are served in order.
    public func advance(_ all: [IntegratedGradientsRun], maxTokens: Int, maxSequences: Int) throws {
        // One batch explains head logits or zero-shot cosines, not both: the runs of the first
        // one's kind go now, the others at the next call.
        guard let first = all.first(where: { !$0.isFinished }) else { return }
        let runs = all.filter { ($0.similarity == nil) == (first.similarity == nil) }
        var tokens = 0, sequences = 0
        func fits(_ length: Int, count: Int = 1) -> Bool {
            sequences == 0 || (tokens + count * length <= maxTokens && sequences + count <= maxSequences)
        }
        // Endpoints: two sequences per run that has not started, forward only.
        var endpointRuns: [IntegratedGradientsRun] = []
        for run in runs where run.logits == nil && fits(run.length, count: 2) {
            endpointRuns.append(run)
            tokens += 2 * run.length
            sequences += 2
        }
        if !endpointRuns.isEmpty {
            var batch = TokenBatch()
            var points: [Float] = []
            for run in endpointRuns {
                batch.append(ids: run.ids, typeIds: run.typeIds)
                batch.append(ids: run.ids, typeIds: run.typeIds)
                points += run.input
                points += run.reference
            }
            let similarity = first.similarity == nil ? nil : endpointRuns.flatMap { [$0.similarity!, $0.similarity!] }
            let outputs = try points.withUnsafeBufferPointer { try trainer.forward(batch, embedded: $0.baseAddress!, similarity: similarity) }
            for (n, run) in endpointRuns.enumerated() {
                run.start(logits: outputs[2 * n], baselineLogits: outputs[2 * n + 1], multiLabel: multiLabel && run.similarity == nil)
            }
        }
        // Points: (run, entry) pairs in order, while they fit.
        var chosen: [(run: IntegratedGradientsRun, entry: Int)] = []
        for run in runs where run.logits != nil && !endpointRuns.contains(where: { $0 === run }) {
            while run.next < run.targets.count * run.points.count, fits(run.length) {
                chosen.append((run, run.next))
                run.next += 1
                tokens += run.length
                sequences += 1
            }
        }
        guard !chosen.isEmpty else { return }
        try computePoints(chosen)
    }

    /// Forward and backward of the chosen points in one batch; each point's gradient goes to its run.
    private func computePoints(_ chosen: [(run: IntegratedGradientsRun, entry: Int)]) throws {
        var batch = TokenBatch()
        for (run, _) in chosen { batch.append(ids: run.ids, typeIds: run.typeIds) }
        let e = model.tree.embeddings.width
        let size = batch.tokenCount * e
        if embedded.count < size {
            embedded = [Float](repeating: 0, count: size)
            gradient = [Float](repeating: 0, count: size)
        }
        let outputGradient = chosen.map { run, entry -> [Float] in
            var row = [Float](repeating: 0, count: run.outputs)
            row[run.targets[entry / run.points.count]] = 1
            return row
        }
        let similarity = chosen[0].run.similarity == nil ? nil : chosen.map { $0.run.similarity! }
        try embedded.withUnsafeMutableBufferPointer { points in
            try gradient.withUnsafeMutableBufferPointer { grad in
                for (b, (run, entry)) in chosen.enumerated() {
                    run.writePoint(entry, into: points.baseAddress! + batch.sequenceStarts[b] * e)
                }
                try trainer.forward(batch, embedded: points.baseAddress!, similarity: similarity)
                trainer.backwardToEmbedded(batch, outputGradient: outputGradient, gradient: grad.baseAddress!)
                for (b, (run, entry)) in chosen.enumerated() {
                    run.accumulate(entry, gradient: grad.baseAddress! + batch.sequenceStarts[b] * e)
                }
            }
        }
    }

    /// Runs `run` to the end in batches under the given limits and returns its result.
    public func finish(_ run: IntegratedGradientsRun, maxTokens: Int = 8192, maxSequences: Int = 256) throws -> IntegratedGradientsResult {
        while !run.isFinished { try advance([run], maxTokens: maxTokens, maxSequences: maxSequences) }
        return run.result()
    }

    // MARK: attention

    /// Every layer's attention probabilities of every sequence of the batch (one forward).
    public func attention(_ batch: TokenBatch) throws -> [AttentionMaps] {
        try model.validate(batch)
        let points = trainer.embeddingsModuleOutput(batch)
        let vectors = headRows.map { Array(repeating: $0.flatMap { $0 }, count: batch.count) }
        var logits = try points.withUnsafeBufferPointer { try trainer.forward(batch, embedded: $0.baseAddress!, similarity: vectors) }
        if let bias = model.embeddingHead?.bias { logits = logits.map { zip($0, bias).map(+) } }
        let (layers, heads) = (model.config.numLayers, model.config.numHeads)
        return (0..<batch.count).map { s in
            var values: [Float] = []
            for l in 0..<layers { values += trainer.attentionProbabilities(layer: l, sequence: s, in: batch) }
            return AttentionMaps(layers: layers, heads: heads, length: batch.length(of: s), values: values, logits: logits[s])
        }
    }
}
