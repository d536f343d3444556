import BertCore
import BertPipeline
import BertProtocol
import Foundation

/// Turns parsed classify/embed requests into work items, and finished work into replies.
/// Runs on the I/O thread.
struct RequestHandler {
    struct Limits {
        var maxTextsPerRequest: Int
        var maxTextBytes: Int
    }

    var limits: Limits

    /// Validates and tokenizes a classify/embed request; throws the error to reply with.
    func prepare(id: JSON, op: Op, _ request: Inference, model: LoadedModel, origin: Origin) throws -> (PendingRequest, [WorkItem]) {
        let now = origin.receivedAt
        try checkTexts(request)
        guard let textModel = model.textModel else { return try prepareLinear(id: id, op: op, request, model: model, origin: origin) }
        let zeroShot: [String]?
        let kind: WorkItem.Kind
        switch op {
        case .embed:
            guard request.labels == nil else { throw ProtocolError(.badRequest, "\"labels\" is for classify") }
            zeroShot = nil
            kind = .embedding
        case .classify:
            if let labels = request.labels {
                guard request.pairs == nil else { throw ProtocolError(.badRequest, "zero-shot classification takes no \"pairs\"") }
                zeroShot = labels
                kind = .embedding
            } else {
                guard textModel.canClassify else {
                    throw ProtocolError(.unsupported, "model \"\(model.name)\" has no classification head; give \"labels\" to classify zero-shot, or use embed")
                }
                zeroShot = nil
                kind = .logits
            }
        default:
            throw ProtocolError(.internal, "prepare called for \(op.rawValue)")
        }

        // A model that reads long documents (config.json's long_documents) gets every window of a
        // long text as a work item of its own; the reply aggregates them per text.
        let policy = textModel.longDocuments
        var encodings: [(ids: [Int32], types: [Int32], truncated: Bool)] = []
        var windowCounts: [Int] = []
        for (i, text) in request.texts.enumerated() {
            do {
                let windows = try textModel.prepareWindows(text, pair: request.pairs?[i], truncate: request.truncate, policy: policy)
                encodings += windows.map { ($0.encoding.ids, $0.encoding.typeIds, $0.truncatedTokens > 0) }
                windowCounts.append(windows.count)
            } catch let error as BertError {
                throw ProtocolError(.tooLarge, "text \(i): \(error.message)")
            }
        }
        let textSlots = encodings.count
        var tokenCounts: [Int] = [], truncated: [Bool] = []
        var slot = 0
        for count in windowCounts {
            let windows = encodings[slot..<(slot + count)]
            tokenCounts.append(windows.reduce(0) { $0 + $1.ids.count })
            truncated.append(windows.contains { $0.truncated })
            slot += count
        }
        // Cached label embeddings are copied into the request now, so that evictions by later
        // requests cannot take them away; the others are computed with the texts.
        var knownLabels: [String: [Float]] = [:]
        var missingLabels: [String] = []
        for label in zeroShot ?? [] {
            if let vector = model.labelEmbeddings.lookup(label) { knownLabels[label] = vector } else { missingLabels.append(label) }
        }
        for label in missingLabels {
            let input = try textModel.prepare(label)
            encodings.append((input.encoding.ids, input.encoding.typeIds, false))
        }
        let deadline = request.deadlineMs.map { now + Double($0) / 1000 }
        let pending = PendingRequest(id: id, op: op, inference: request, origin: origin, model: model,
                                     startedAt: now, tokenCounts: tokenCounts, truncated: truncated,
                                     zeroShotLabels: zeroShot, queuedLabels: missingLabels, knownLabels: knownLabels,
                                     windows: policy.map { (windowCounts, $0.aggregation) }, textSlots: textSlots)
        pending.windowTokens = encodings.prefix(textSlots).map(\.ids.count)
        let items = encodings.enumerated().map { slot, e in
            WorkItem(model: model, kind: kind, ids: e.ids, typeIds: e.types, deadline: deadline, enqueuedAt: now,
                     owner: pending, slot: slot)
        }
        return (pending, items)
    }

    /// classify on a linear baseline: one work item per text, the text itself (no tokens,
    /// nothing truncated); no zero-shot, no pairs, no embeddings.
    private func prepareLinear(id: JSON, op: Op, _ request: Inference, model: LoadedModel, origin: Origin) throws -> (PendingRequest, [WorkItem]) {
        guard op == .classify else {
            throw ProtocolError(.unsupported, "model \"\(model.name)\" is a linear baseline: it classifies, it does not \(op.rawValue)")
        }
        guard request.labels == nil else {
            throw ProtocolError(.unsupported, "model \"\(model.name)\" is a linear baseline: it has no zero-shot \"labels\"")
        }
        guard request.pairs == nil else {
            throw ProtocolError(.unsupported, "model \"\(model.name)\" is a linear baseline trained on single texts: it takes no \"pairs\"")
        }
        let now = origin.receivedAt
        let deadline = request.deadlineMs.map { now + Double($0) / 1000 }
        let pending = PendingRequest(id: id, op: op, inference: request, origin: origin, model: model, startedAt: now,
                                     tokenCounts: request.texts.map { _ in 0 }, truncated: request.texts.map { _ in false },
                                     zeroShotLabels: nil, queuedLabels: [], knownLabels: [:])
        let items = request.texts.enumerated().map { slot, text in
            WorkItem(model: model, kind: .linear, ids: [], typeIds: [], deadline: deadline, enqueuedAt: now, owner: pending, slot: slot,
                     text: text)
        }
        return (pending, items)
    }

    /// The limits on a request's texts: how many, how long, none empty.
    func checkTexts(_ request: Inference) throws {
        let labelCount = request.labels?.count ?? 0
        guard request.texts.count + labelCount <= limits.maxTextsPerRequest else {
            throw ProtocolError(.tooLarge, "\(request.texts.count) texts and \(labelCount) labels in one request; the limit is \(limits.maxTextsPerRequest) in all")
        }
        for (i, text) in (request.texts + (request.pairs ?? [])).enumerated() where text.utf8.count > limits.maxTextBytes {
            throw ProtocolError(.tooLarge, "text \(i % request.texts.count) has \(text.utf8.count) bytes; the limit is \(limits.maxTextBytes)")
        }
        if let long = request.labels?.first(where: { $0.utf8.count > limits.maxTextBytes }) {
            throw ProtocolError(.tooLarge, "a label has \(long.utf8.count) bytes; the limit is \(limits.maxTextBytes)")
        }
        if let index = request.texts.firstIndex(where: { $0.isEmpty }) {
            throw ProtocolError(.badRequest, "text \(index) is empty")
        }
    }

    /// The reply body of a request whose every item is done.
    func result(of p: PendingRequest) throws -> JSON {
        if let failure = p.failure { throw failure }
        let outputs = p.outputs.map { $0 ?? [] }
        // One row per text: its windows' outputs aggregated (embeddings normalised again).
        var textOutputs = Array(outputs.prefix(p.textSlots))
        if let (counts, aggregation) = p.windows {
            let groups = WindowGroups(counts: counts, tokens: p.windowTokens)
            textOutputs = p.op == .embed || p.zeroShotLabels != nil
                ? aggregateWindowEmbeddings(textOutputs, groups: groups, aggregation: aggregation)
                : aggregateWindows(textOutputs, groups: groups, aggregation: aggregation)
        }
        let windowFields: (Int) -> [(String, JSON)] = { i in p.windows.map { [("windows", .int($0.counts[i]))] } ?? [] }
        let modelFields: [(String, JSON)] = [("model", .string(p.model.name)), ("version", .int(p.model.version)),
                                             ("precision", .string(p.model.precision.rawValue))]
        switch p.op {
        case .embed:
            return .object(modelFields + [
                ("dimension", .int(outputs.first?.count ?? 0)),
                ("embeddings", .array(textOutputs.map { JSON.floats($0) })),
                ("tokens", .array(p.tokenCounts.map { .int($0) })),
                ("truncated", .array(p.truncated.map { .bool($0) })),
            ] + (p.windows.map { [("windows", .array($0.counts.map { .int($0) }))] } ?? []))
        case .classify:
            let results: [Classification]
            if let labels = p.zeroShotLabels {
                var vectors = p.knownLabels
                for (label, vector) in zip(p.queuedLabels, outputs[p.textSlots...]) {
                    vectors[label] = vector
                    p.model.labelEmbeddings.insert(label, vector)
                }
                let table = ZeroShotLabels(labels: labels, embeddings: labels.map { vectors[$0] ?? [] })
                results = textOutputs.map { table.classify(embedding: $0) }
            } else {
                results = textOutputs.map { p.model.classification(logits: $0) }
            }
            let rendered = results.enumerated().map { i, r -> JSON in
                let shown = p.inference.topK.map { r.top($0) } ?? r.scores
                var fields: [(String, JSON)] = [
                    ("label", .string(r.label)), ("score", .float(r.score)),
                    ("scores", .object(shown.map { ($0.label, JSON.float($0.probability)) })),
                    ("logits", .floats(r.logits)), ("tokens", .int(p.tokenCounts[i])), ("truncated", .bool(p.truncated[i])),
                ]
                if let selected = r.selected { fields.append(("labels", .array(selected.map { .string($0) }))) }
                if let value = r.value { fields.append(("value", .float(value))) }
                return .object(fields + windowFields(i))
            }
            return .object(modelFields + [("results", .array(rendered))])
        case .explain:
            return try explanationResult(of: p)
        default:
            throw ProtocolError(.internal, "no result for \(p.op.rawValue)")
        }
    }
}
