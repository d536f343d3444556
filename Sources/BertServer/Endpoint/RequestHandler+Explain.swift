import BertCore
import BertExplanations
import BertPipeline
import BertProtocol
import BertTokenizers
import BertTraining

/// explain: validation against the model, one work item per text (an attribution is the whole
/// integrated-gradients computation of that text, run by the scheduler in chunks) or, for a model
/// that reads long documents, per window of a long text, and the reply (windows combined).
extension RequestHandler {
    func prepareExplanation(id: JSON, _ request: ExplainRequest, model: LoadedModel, origin: Origin) throws -> (PendingRequest, [WorkItem]) {
        let inference = request.inference
        try checkTexts(inference)
        guard let textModel = model.textModel else {
            throw ProtocolError(.unsupported, "model \"\(model.name)\" is a linear baseline: explanations are for transformers")
        }
        let candidates = inference.labels  // zero-shot
        if request.method != .integratedGradients {
            guard candidates == nil else {
                throw ProtocolError(.unsupported, "zero-shot \"labels\" are explained with integrated_gradients only: drop \"labels\" for attention maps")
            }
            guard textModel.canClassify else {
                throw ProtocolError(.unsupported, "model \"\(model.name)\" has no classification head: attention maps are explained for classifiers")
            }
        }
        guard textModel.canClassify || candidates != nil else {
            throw ProtocolError(.unsupported, "model \"\(model.name)\" has no classification head: give candidate \"labels\" to explain it zero-shot")
        }
        if candidates != nil, inference.pairs != nil { throw ProtocolError(.badRequest, "zero-shot explanations take no \"pairs\"") }
        let outputLabels = candidates ?? model.labels
        let config = textModel.model.config
        var attribution: WorkItem.Attribution?
        switch request.method {
        case .integratedGradients:
            guard (1...Explainer.maxSteps).contains(request.steps) else {
                throw ProtocolError(.badRequest, "\"steps\" must be within 1…\(Explainer.maxSteps) (got \(request.steps))")
            }
            guard let rule = IntegrationRule(rawValue: request.rule) else {
                throw ProtocolError(.badRequest, "unknown rule \"\(request.rule)\" (known: \(IntegrationRule.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if rule == .trapezoid && request.steps < 2 { throw ProtocolError(.badRequest, "the trapezoid rule needs at least 2 steps") }
            guard let baseline = AttributionBaseline(rawValue: request.baseline) else {
                throw ProtocolError(.badRequest, "unknown baseline \"\(request.baseline)\" (known: \(AttributionBaseline.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard request.layers == nil, request.heads == nil else {
                throw ProtocolError(.badRequest, "\"layers\" and \"heads\" select attention maps (method \"attention\")")
            }
            var targets = AttributionTargets.predicted
            if let labels = request.labels {
                targets = .labels(try labels.map { label in
                    guard let index = outputLabels.firstIndex(of: label) else {
                        throw ProtocolError(.badRequest, "unknown label \"\(label)\" (\(candidates == nil ? "the model's" : "the candidate") labels: \(outputLabels.joined(separator: ", ")))")
                    }
                    return index
                })
            }
            let labelTokens = try candidates?.map { label -> (ids: [Int32], typeIds: [Int32]) in
                let e = try textModel.prepare(label).encoding
                return (e.ids, e.typeIds)
            }
            attribution = WorkItem.Attribution(special: [], targets: targets, steps: request.steps, rule: rule, baseline: baseline,
                                               zeroShotLabels: labelTokens)
        case .attention, .rollout:
            guard request.labels == nil else { throw ProtocolError(.badRequest, "\"label\" is for integrated_gradients: attention does not depend on a label") }
            if request.method == .rollout, request.layers != nil || request.heads != nil {
                throw ProtocolError(.badRequest, "rollout combines every layer and head: \"layers\" and \"heads\" are for method \"attention\"")
            }
            if let bad = request.layers?.first(where: { $0 >= config.numLayers }) {
                throw ProtocolError(.badRequest, "layer \(bad) does not exist (the model has layers 0…\(config.numLayers - 1))")
            }
            if let bad = request.heads?.first(where: { $0 >= config.numHeads }) {
                throw ProtocolError(.badRequest, "head \(bad) does not exist (the model has heads 0…\(config.numHeads - 1))")
            }
        }
        let now = origin.receivedAt
        // Per text: the sequences to explain (a long text's windows, for a model that reads long
        // documents, which share the decision of their targets), and what the reply shows.
        var texts: [(read: ExplainedSequences, document: DocumentTargets?)] = []
        for (i, text) in inference.texts.enumerated() {
            do {
                let read = try ExplainedSequences(text, pair: inference.pairs?[i], textModel: textModel, truncate: inference.truncate,
                                                  method: request.method, zeroShot: candidates != nil)
                texts.append((read, read.layout.map { DocumentTargets(windows: read.batch, aggregation: $0.aggregation) }))
            } catch let error as BertError {
                throw ProtocolError(.tooLarge, "text \(i): \(error.message)")
            } catch let error as ExplanationError {
                throw ProtocolError(.unsupported, "text \(i): \(error.description)")
            }
        }
        let pending = PendingRequest(id: id, op: .explain, inference: inference, origin: origin, model: model, startedAt: now,
                                     tokenCounts: texts.map { $0.read.sequences.reduce(0) { $0 + $1.ids.count } },
                                     truncated: texts.map { $0.read.sequences.contains { $0.truncatedTokenCount > 0 } },
                                     zeroShotLabels: nil, queuedLabels: [], knownLabels: [:],
                                     textSlots: texts.reduce(0) { $0 + $1.read.sequences.count })
        pending.explanation = request
        pending.texts = texts.map(\.read)
        var slot = 0
        pending.explanationSlots = texts.map { text in
            defer { slot += text.read.sequences.count }
            return slot..<(slot + text.read.sequences.count)
        }
        pending.attributions = Array(repeating: nil, count: slot)
        pending.maps = Array(repeating: nil, count: slot)
        let deadline = inference.deadlineMs.map { now + Double($0) / 1000 }
        var items: [WorkItem] = []
        for (text, slots) in zip(texts, pending.explanationSlots) {
            for (e, slot) in zip(text.read.sequences, slots) {
                var a = attribution
                a?.special = e.specialTokensMask
                a?.document = text.document
                items.append(WorkItem(model: model, kind: a == nil ? .attention : .attribution, ids: e.ids, typeIds: e.typeIds,
                                      deadline: deadline, enqueuedAt: now, owner: pending, slot: slot, attribution: a))
            }
        }
        return (pending, items)
    }

    func explanationResult(of p: PendingRequest) throws -> JSON {
        guard let request = p.explanation else { throw ProtocolError(.internal, "an explain request without its explanation") }
        guard let config = p.model.textModel?.model.config else { throw ProtocolError(.internal, "an explanation of a linear baseline") }
        let texts = try p.texts.enumerated().map { i, read -> JSON in
            let candidates = p.inference.labels
            let slots = p.explanationSlots[i]
            let view = ExplanationJSON(encoding: read.shown, texts: [p.inference.texts[i]] + (p.inference.pairs.map { [$0[i]] } ?? []),
                                       labels: candidates ?? p.model.labels,
                                       scoring: candidates == nil ? config.scoring : .softmax,
                                       thresholds: candidates == nil ? config.decisionThresholds : [:],
                                       logitScale: candidates == nil ? 1 : ZeroShotLabels.defaultScale,
                                       windows: read.windows)
            switch request.method {
            case .integratedGradients:
                let results = try slots.map { slot in
                    guard let result = p.attributions[slot] else { throw ProtocolError(.internal, "text \(i) has no attributions") }
                    return result
                }
                return view.attributions(read.layout?.combine(results) ?? results[0])
            case .attention, .rollout:
                guard let maps = p.maps[slots.lowerBound] else { throw ProtocolError(.internal, "text \(i) has no attention maps") }
                return view.attention(maps, rollout: request.method == .rollout, layers: request.layers, heads: request.heads)
            }
        }
        return .object([("model", .string(p.model.name)), ("version", .int(p.model.version)),
                        ("method", .string(request.method.rawValue)), ("explanations", .array(texts))])
    }
}
