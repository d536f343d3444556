import ArgumentParser
import BertExplanations
import BertProtocol
import BertTraining
import Foundation

extension ExplanationMethod: ExpressibleByArgument {}
extension IntegrationRule: ExpressibleByArgument {}
extension AttributionBaseline: ExpressibleByArgument {}

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Why a classifier decides as it does: each word's attribution (integrated gradients) and the attention maps.",
        discussion: """
        Asks bertd, or with --local DIR runs in this process. On a terminal each word is shaded \
        from blue (lowers the label's logit) through white to red (raises it); otherwise every \
        word is followed by its number, as word[+0.42]. \
        Examples:
          bertctl explain --model sentiment "the acting was dreadful"
          bertctl explain --local models/all-MiniLM-L6-v2 --labels sports,cooking "the striker scored twice"
          bertctl explain --local runs/sentiment/final --label positive --steps 64 "a wonderful, moving film"
          bertctl explain --local runs/sentiment/final --attention "a wonderful, moving film"
          bertctl explain --local runs/sentiment/final --html report.html "the plot made no sense"
          bertctl explain --local runs/reviews --window 128 "$(cat review.txt)"   # every window of a long text
        A model that reads long texts in windows (its config.json long_documents, or --window) \
        explains the decision it makes over all of them: each token once, its attribution the sum \
        of its windows' as the logits aggregate (integrated gradients only).
        """)

    @OptionGroup var local: LocalModelOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var compute: ComputeOptions
    @OptionGroup(title: "Long documents, with --local (bertd: the model's own setting)") var windows: WindowOptions

    @Option(help: "The daemon's model to use (default: its default model).")
    var model: String?

    @Option(help: "The label to explain (repeat for several; default: the predicted label).")
    var label: [String] = []

    @Option(help: "Comma-separated candidate labels: explain a zero-shot classification (cosine similarity of embeddings), for an embedding model.")
    var labels: String?

    private var candidates: [String]? {
        labels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    @Option(help: "Interpolation steps of integrated gradients (1…1024).")
    var steps = ExplainRequest.defaultSteps

    @Option(help: "Quadrature rule: \(IntegrationRule.allCases.map(\.rawValue).joined(separator: ", ")).")
    var rule = IntegrationRule.gaussLegendre

    @Option(help: "What each word is compared with: \(AttributionBaseline.allCases.map(\.rawValue).joined(separator: ", ")).")
    var baseline = AttributionBaseline.pad

    @Flag(help: "Print each layer's attention map (mean over its heads) instead of the attributions.")
    var attention = false

    @Flag(help: "Print attention rollout: how much each word feeds the first token, through every layer.")
    var rollout = false

    @Option(help: "Write a self-contained HTML page: highlighted words and every layer's and head's attention map.")
    var html: String?

    @Option(help: "Write the same as an SVG drawing.")
    var svg: String?

    @Flag(help: "Print the explanation JSON (the daemon's reply format), one object per text and line.")
    var json = false

    @Option(help: "Milliseconds the daemon may take before dropping the work (deadline_exceeded).")
    var deadline: Int?

    @Flag(help: "Refuse texts longer than the model's maximum instead of truncating them.")
    var noTruncate = false

    @Argument(help: "Texts to explain (default: one per line on standard input).")
    var texts: [String] = []

    func validate() throws {
        if !(1...Explainer.maxSteps).contains(steps) { throw ValidationError("--steps must be within 1…\(Explainer.maxSteps)") }
        if attention && rollout { throw ValidationError("--attention and --rollout are two views: choose one") }
        if local.directory == nil && windows.settings != nil {
            throw ValidationError("--window, --stride and --aggregate are for --local: bertd explains as the model is served (bertctl load --window)")
        }
    }

    private var method: ExplanationMethod { attention ? .attention : rollout ? .rollout : .integratedGradients }

    func run() throws {
        let all = InputTexts.read(arguments: texts)
        guard !all.isEmpty else { throw CommandFailure(description: "no text to explain") }
        let explainer = local.directory == nil ? nil : try makeLocalExplainer()
        var report: [ExplanationReport.Item] = []
        let view = TerminalView(colour: isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
        for start in stride(from: 0, to: all.count, by: ExplainRequest.maxTexts) {
            let chunk = Array(all[start..<min(start + ExplainRequest.maxTexts, all.count)])
            let result = try explain(chunk, method: method, explainer: explainer)
            if json {
                for e in result["explanations"] as? [Any] ?? [] {
                    let data = try JSONSerialization.data(withJSONObject: e, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: data, as: UTF8.self))
                }
            }
            let explained = try ExplainedText.decode(result: result)
            var maps: [ExplainedText?]?
            if (html != nil || svg != nil) && candidates == nil {
                if method == .attention {
                    maps = explained
                } else {
                    // Attention maps belong to one sequence: a text read in several windows has none.
                    let single = explained.indices.filter { (explained[$0].windows ?? 1) == 1 }
                    let drawn = single.isEmpty ? []
                        : try ExplainedText.decode(result: try explain(single.map { chunk[$0] }, method: .attention, explainer: explainer))
                    maps = Array(repeating: nil, count: chunk.count)
                    for (i, m) in zip(single, drawn) { maps?[i] = m }
                }
            }
            for (i, e) in explained.enumerated() {
                if !json {
                    switch method {
                    case .integratedGradients: print(view.attributions(e, texts: [chunk[i]]))
                    case .attention: print(view.attention(e))
                    case .rollout: print(view.highlight(e, values: e.wordScores ?? [], texts: [chunk[i]]))
                    }
                }
                report.append(.init(texts: [chunk[i]], caption: "\(e.label) (p = \(String(format: "%.4f", e.score)))",
                                    attributions: method == .integratedGradients ? e : nil, attention: maps?[i] ?? nil))
            }
        }
        let title = "Why \(local.directory.map { URL(fileURLWithPath: $0).lastPathComponent } ?? model ?? "the model") decides"
        try write(ExplanationReport(title: title, items: report))
    }

    private func write(_ report: ExplanationReport) throws {
        for (path, content) in [(html, { report.html }), (svg, { report.svg })] {
            guard let path else { continue }
            do {
                try content().write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure(description: "cannot write \(path): \(error.localizedDescription)")
            }
            FileHandle.standardError.write(Data("wrote \(path)\n".utf8))
        }
    }

    private func makeLocalExplainer() throws -> InProcessExplainer {
        compute.apply()
        var textModel = try local.load()
        guard textModel.canClassify || candidates != nil else {
            throw CommandFailure(description: "\(local.directory!) has no classification head: give --labels to explain a zero-shot classification")
        }
        if let policy = try windows.policy(model: textModel.longDocuments, maxSequenceLength: textModel.maxSequenceLength),
           policy != textModel.longDocuments {
            textModel = try textModel.readingLongDocuments(policy)
        }
        return try InProcessExplainer(textModel: textModel)
    }

    /// The explain result for these texts, from this process or from bertd.
    private func explain(_ texts: [String], method: ExplanationMethod, explainer: InProcessExplainer?) throws -> [String: Any] {
        guard let explainer else {
            return try daemon.call(DaemonOptions.newRequest(.explain(ExplainRequest(
                inference: Inference(texts: texts, model: model, labels: candidates, deadlineMs: deadline, truncate: !noTruncate), method: method,
                labels: label.isEmpty ? nil : label, steps: steps, rule: rule.rawValue, baseline: baseline.rawValue))))
        }
        var settings = InProcessExplainer.Settings()
        settings.method = method
        settings.labels = label.isEmpty ? nil : label
        settings.steps = steps
        settings.rule = rule
        settings.baseline = baseline
        settings.truncate = !noTruncate
        settings.candidates = candidates
        do {
            let explanations = try explainer.explain(texts, settings: settings)
            let text = JSON.object([("method", .string(method.rawValue)), ("explanations", .array(explanations))]).text
            return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        } catch let error as ExplanationError {
            throw CommandFailure(description: error.description)
        }
    }
}
