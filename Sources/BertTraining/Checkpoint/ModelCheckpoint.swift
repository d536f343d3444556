import BertCore
import Foundation

/// A Hugging Face model directory from a trained model, written atomically:
///
///     DIR/config.json              source config + architectures, id2label, label2id, num_labels
///     DIR/model.safetensors        every tensor of the model under its HF name
///     DIR/tokenizer.json, vocab.txt, …   copied from the source directory, whichever exist
///     DIR/training_report.json/.svg      when given
///     DIR/optimizer.safetensors, trainer_state.json   when given (to resume)
///     DIR/adapter_config.json, adapter_model.safetensors   when given (a PEFT LoRA adapter)
///
/// transformers' AutoModelForSequenceClassification.from_pretrained(DIR) loads it, and so does
/// `ModelLoader.load(directory:)`.
public struct ModelCheckpoint {
    public let model: TransformerModel
    public let labels: [String]
    /// The directory the model was loaded from: its config.json and tokenizer files are reused.
    public let sourceDirectory: URL
    public var report: TrainingReport?
    public var resume: ResumeState?
    public var adapter: PEFTAdapter?
    /// How the model was trained to read long documents (config.json's `long_documents`).
    public var longDocuments: LongDocumentPolicy?
    /// The task and decision thresholds to write without a report (a merged LoRA model carries
    /// those of the checkpoint it was merged from); a report's take precedence.
    public var task: Task?
    public var thresholds: [String: Double]?

    /// The tokenizer files transformers' AutoTokenizer reads, for WordPiece and BPE models.
    public static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "vocab.txt", "vocab.json", "merges.txt", "added_tokens.json"]

    public init(model: TransformerModel, labels: [String]? = nil, sourceDirectory: URL) throws {
        guard let head = model.tree.head else {
            throw TrainingDataError(.invalidCheckpoint, "the model has no classification head to save")
        }
        let labels = labels ?? model.labels
        guard labels.count == head.output.outFeatures else {
            throw TrainingDataError(.invalidCheckpoint, "\(labels.count) label names for a head with \(head.output.outFeatures) outputs")
        }
        self.model = model
        self.labels = labels
        self.sourceDirectory = sourceDirectory
    }

    /// Writes the directory (replacing an existing one in a single step).
    /// - Parameter betweenFiles: called after each large file (the daemon serves waiting
    ///   requests there, so a checkpoint does not hold them for the whole write).
    public func write(to directory: URL, betweenFiles: () -> Void = {}) throws {
        try AtomicDirectory.write(directory) { dir in
            try AtomicDirectory.writeFile(try HuggingFaceConfig.classification(
                source: sourceDirectory.appendingPathComponent("config.json"), family: model.family, labels: labels,
                task: report?.task ?? task ?? .singleLabel, thresholds: report?.tunedThresholds ?? thresholds,
                longDocuments: longDocuments),
                to: dir.appendingPathComponent("config.json"))
            try writeWeights(to: dir.appendingPathComponent("model.safetensors"))
            betweenFiles()
            for name in Self.tokenizerFiles {
                let source = sourceDirectory.appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: source.path) else { continue }
                try AtomicDirectory.writeFile(data, to: dir.appendingPathComponent(name))
            }
            if let report {
                try AtomicDirectory.writeFile(Data(ModelCard.markdown(report: report, baseModel: sourceDirectory.lastPathComponent,
                                                                      labels: labels).utf8),
                                              to: dir.appendingPathComponent(ModelCard.fileName))
                try AtomicDirectory.writeFile(try report.json(), to: dir.appendingPathComponent(TrainingReport.jsonName))
                try AtomicDirectory.writeFile(Data(ReportSVG.render(report).utf8), to: dir.appendingPathComponent(TrainingReport.svgName))
            }
            try resume?.write(into: dir)
            if resume != nil { betweenFiles() }
            try adapter?.write(into: dir)
        }
    }

    /// model.safetensors: each tensor of the layout under its HF name (the fused QKV is three
    /// named views already, so nothing is split or renamed here).
    func writeWeights(to url: URL) throws {
        var writer = SafetensorsWriter()
        for spec in model.tree.layout.specs {
            writer.add(spec.name, shape: spec.ref.shape, values: model.parameters.values(spec.ref))
        }
        writer.metadata = ["format": "pt"]  // transformers refuses safetensors without it
        do { try writer.write(to: url) } catch let error as BertError { throw TrainingDataError(.ioError, error.message) }
    }
}
