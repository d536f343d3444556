import Foundation

/// README.md of a checkpoint directory in the Hugging Face model-card form: YAML front matter
/// (`library_name`, `pipeline_tag`, `base_model`, `metrics`, `tags`) that the Hub and tools read,
/// then the task and labels, the training recipe, the evaluation and how to use the model.
/// transformers ignores the file: the directory loads as before.
enum ModelCard {
    static let fileName = "README.md"

    static func markdown(report: TrainingReport, baseModel: String, labels: [String]) -> String {
        let task = report.task ?? .singleLabel
        let metricNames: [String]
        switch task {
        case .singleLabel: metricNames = ["accuracy", "f1", "roc_auc"]
        case .multiLabel: metricNames = ["f1", "roc_auc"]
        case .regression: metricNames = ["mse", "mae", "pearsonr", "spearmanr"]
        }
        var lines = [
            "---",
            "library_name: transformers",
            "pipeline_tag: text-classification",
            "base_model: \(yamlString(baseModel))",
            "metrics:",
        ] + metricNames.map { "- \($0)" } + [
            "tags:",
            "- bertd",
            "- \(task.rawValue.replacingOccurrences(of: "_", with: "-"))",
            "---",
            "",
            "# \(report.title)",
            "",
            "Fine-tuned from `\(baseModel)` by bertd (\(description(task))).",
            "",
            "## Labels",
            "",
        ]
        lines += task == .regression
            ? ["One output, `\(labels.first ?? "value")`: the predicted value (`problem_type: regression`)."]
            : labels.enumerated().map { "- \($0.offset): `\($0.element)`" + (report.tunedThresholds?[$0.element].map { String(format: " (decision threshold %.3f)", $0) } ?? "") }
        lines += ["", "## Training", "", "| setting | value |", "| --- | --- |"]
        lines += report.configuration.keys.sorted().map { "| \($0) | \(report.configuration[$0]!) |" }
        if let data = report.data {
            lines.append("| examples (train / validation) | \(data.trainExamples) / \(data.validationExamples) |")
        }
        if let best = report.bestEpoch { lines.append("| kept epoch | \(best) (by \(report.selectionMetric.rawValue)) |") }
        lines += ["", "## Evaluation (validation set)", ""]
        if let m = report.finalMetrics {
            lines += ["| metric | value |", "| --- | --- |"] + rows(m)
            if let tuned = report.finalMetricsAtTunedThresholds {
                lines += ["", "At the tuned decision thresholds:", "", "| metric | value |", "| --- | --- |"] + rows(tuned)
            }
        } else {
            lines.append("No evaluation was recorded.")
        }
        lines += ["", "## Use", "", "```", "bertctl classify --local THIS_DIRECTORY \"a text to classify\"", "```", "",
                  "or with transformers: `pipeline(\"text-classification\", model=\"THIS_DIRECTORY\")`.", ""]
        return lines.joined(separator: "\n")
    }

    private static func rows(_ m: ClassificationMetrics) -> [String] {
        func row(_ name: String, _ value: Double?) -> String? { value.map { String(format: "| %@ | %.4f |", name, $0) } }
        if let r = m.regression {
            return [row("mse", r.mse), row("mae", r.mae), row("pearson", r.pearson), row("spearman", r.spearman)].compactMap { $0 }
        }
        if let ml = m.multiLabel {
            return [row("micro F1", ml.microF1), row("macro F1", ml.macroF1), row("subset accuracy", ml.subsetAccuracy),
                    row("Hamming loss", ml.hammingLoss), row("macro ROC-AUC", ml.macroROCAUC), row("loss", m.loss)].compactMap { $0 }
        }
        return [row("accuracy", m.accuracy), row("macro F1", m.macroF1), row("ROC-AUC", m.rocAUC), row("loss", m.loss)].compactMap { $0 }
    }

    private static func description(_ task: Task) -> String {
        switch task {
        case .singleLabel: return "single-label classification: a softmax over the labels"
        case .multiLabel: return "multi-label classification: a sigmoid per label"
        case .regression: return "regression"
        }
    }

    /// A YAML scalar, quoted when it could be read as something else.
    private static func yamlString(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) } ? s : "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
