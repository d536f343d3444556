import BertCore
import BertTraining
import Foundation

/// A few-shot model's directory, written atomically:
///
///     DIR/config.json                  the base's config.json, architectures the bare encoder
///                                      (BertModel, …), id2label/label2id/num_labels, and
///                                      "embedding_head": {"pooling": "mean", "normalize": true}
///     DIR/model.safetensors            the tuned encoder, under the bare encoder's names
///     DIR/embedding_head.safetensors   the logistic regression: weight (C, H), bias (C)
///     DIR/tokenizer.json, vocab.txt, … copied from the base
///     DIR/few_shot_report.json         `FewShotReport`
///     DIR/README.md                    a model card
///
/// bertd (`ModelLoader`) serves it as a classifier; transformers' AutoModel (and
/// sentence-transformers) load the encoder, which embeds as the tuned model does; the head is
/// bertd's (SetFit keeps its head in model_head.pkl instead).
public enum FewShotCheckpoint {
    public static func write(_ result: FewShotRun.Result, baseModel: URL, to directory: URL) throws {
        let model = result.model
        guard let head = model.embeddingHead else { throw TrainingDataError(.invalidCheckpoint, "the model has no embedding head") }
        try AtomicDirectory.write(directory) { dir in
            try AtomicDirectory.writeFile(try config(base: baseModel, model: model), to: dir.appendingPathComponent("config.json"))
            try encoderWeights(model).write(to: dir.appendingPathComponent("model.safetensors"))
            try head.write(into: dir)
            for name in ModelCheckpoint.tokenizerFiles {
                guard let data = FileManager.default.contents(atPath: baseModel.appendingPathComponent(name).path) else { continue }
                try AtomicDirectory.writeFile(data, to: dir.appendingPathComponent(name))
            }
            try AtomicDirectory.writeFile(try result.report.json(), to: dir.appendingPathComponent(FewShotReport.fileName))
            try AtomicDirectory.writeFile(Data(card(result.report).utf8), to: dir.appendingPathComponent("README.md"))
        }
    }

    /// The base's config.json with the classifier's fields set and nothing else dropped.
    static func config(base: URL, model: TransformerModel) throws -> Data {
        let source = base.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: source.path),
              var json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TrainingDataError(.invalidCheckpoint, "\(source.path) is missing or is not a JSON object")
        }
        let labels = model.labels
        json["architectures"] = [model.family.baseArchitecture]
        json["id2label"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
        json["label2id"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
        json["num_labels"] = labels.count
        json["problem_type"] = "single_label_classification"
        json[EmbeddingHead.configKey] = EmbeddingHead.configValue
        json["decision_thresholds"] = nil
        var out = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        out.append(0x0A)
        return out
    }

    /// Every encoder tensor under the bare encoder's name (no `bert.` prefix, as the base's
    /// checkpoint has them); a head on [CLS] is left out.
    static func encoderWeights(_ model: TransformerModel) -> SafetensorsWriter {
        let prefix = model.family.weightPrefix + "."
        var writer = SafetensorsWriter()
        for spec in model.tree.layout.specs where spec.name.hasPrefix(prefix) {
            writer.add(String(spec.name.dropFirst(prefix.count)), shape: spec.ref.shape, values: model.parameters.values(spec.ref))
        }
        writer.metadata = ["format": "pt"]
        return writer
    }

    /// A model card in the Hugging Face form.
    static func card(_ r: FewShotReport) -> String {
        func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var lines = ["---", "library_name: bertd", "pipeline_tag: text-classification", "base_model: \(q(r.baseModel))",
                     "tags:", "- few-shot", "- setfit-recipe", "---", "",
                     "# Few-shot classifier (SetFit's recipe, trained by bertd)", "",
                     "The encoder of `\(r.baseModel)` tuned contrastively on \(r.pairs) sentence pairs (\(r.positivePairs) of the same class) "
                        + "built from \(r.examplesPerClass.reduce(0, +)) labelled texts, then a logistic regression (C \(r.c)) on its "
                        + "mean-pooled, normalised embeddings. bertd serves the directory as a classifier; transformers' `AutoModel` "
                        + "loads the encoder alone (the head is `embedding_head.safetensors`, read by bertd).", "",
                     "| label | training texts |", "| --- | --- |"]
        for (label, n) in zip(r.labels, r.examplesPerClass) { lines.append("| \(label) | \(n) |") }
        lines += ["", "Recipe: \(r.epochs) epoch(s), \(r.steps) steps of \(r.batchSize) pairs, learning rate \(r.learningRate), seed \(r.seed).", ""]
        if let v = r.validation {
            lines += ["| validation metric | value |", "| --- | --- |",
                      String(format: "| accuracy | %.4f |", v.accuracy), String(format: "| macro-F1 | %.4f |", v.macroF1)]
            if let auc = v.rocAUC { lines.append(String(format: "| ROC-AUC | %.4f |", auc)) }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
