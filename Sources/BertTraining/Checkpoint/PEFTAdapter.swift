import BertCore
import Foundation

/// LoRA adapters saved as PEFT saves them (`PeftModel.save_pretrained`), so that
/// `PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(BASE), DIR)`
/// loads them:
///
/// - adapter_config.json: peft_type LORA, r, lora_alpha, lora_dropout, target_modules,
///   modules_to_save (the trained head), task_type SEQ_CLS, base_model_name_or_path.
/// - adapter_model.safetensors: PEFT's names *without* the adapter name — its
///   get_peft_model_state_dict drops ".default" (`…query.lora_A.weight`) and "modules_to_save."
///   (`base_model.model.classifier.weight`).
public struct PEFTAdapter {
    public static let configName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"

    public let lora: LoRAAdapters
    /// The model the adapters were trained on: its head is saved as modules_to_save.
    public let model: TransformerModel
    public let baseModelNameOrPath: String

    public init(lora: LoRAAdapters, model: TransformerModel, baseModelNameOrPath: String) {
        self.lora = lora
        self.model = model
        self.baseModelNameOrPath = baseModelNameOrPath
    }

    /// Writes just the adapter as its own directory, atomically.
    public func write(to directory: URL) throws {
        try AtomicDirectory.write(directory) { try write(into: $0) }
    }

    func write(into directory: URL) throws {
        try AtomicDirectory.writeFile(try prettyJSON(configJSON()), to: directory.appendingPathComponent(Self.configName))
        var writer = SafetensorsWriter()
        for spec in lora.layout.specs {
            writer.add(Self.savedName(ofAdapter: spec.name), shape: spec.ref.shape, values: lora.parameters.values(spec.ref))
        }
        for spec in Self.headSpecs(model) {
            writer.add("base_model.model." + spec.name, shape: spec.ref.shape, values: model.parameters.values(spec.ref))
        }
        writer.metadata = ["format": "pt"]
        do { try writer.write(to: directory.appendingPathComponent(Self.weightsName)) } catch let error as BertError {
            throw TrainingDataError(.ioError, error.message)
        }
    }

    /// Loads a saved adapter into `lora` and its head into `model` (both must have the shapes
    /// of the run that saved it). All mismatches are reported at once.
    public static func read(from directory: URL, into lora: LoRAAdapters, model: TransformerModel) throws {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: directory.appendingPathComponent(weightsName).path) } catch let error as BertError {
            throw TrainingDataError(.invalidCheckpoint, error.message)
        }
        var problems: [String] = []
        func load(_ name: String, _ ref: ParameterRef, _ arena: ParameterArena) throws {
            guard let info = file.tensors[name] else { problems.append("missing \(name)"); return }
            guard info.shape == ref.shape else { problems.append("\(name) has shape \(info.shape), expected \(ref.shape)"); return }
            try file.readFloats(name, into: arena[ref])
        }
        for spec in lora.layout.specs { try load(savedName(ofAdapter: spec.name), spec.ref, lora.parameters) }
        for spec in headSpecs(model) { try load("base_model.model." + spec.name, spec.ref, model.parameters) }
        guard problems.isEmpty else {
            throw TrainingDataError(.invalidCheckpoint, "\(file.path) does not fit these adapters: " + problems.prefix(10).joined(separator: "; "))
        }
    }

    /// `…lora_A.default.weight` → `…lora_A.weight`.
    static func savedName(ofAdapter name: String) -> String {
        name.replacingOccurrences(of: ".default.weight", with: ".weight")
    }

    /// The head's tensors: everything outside the base model (`classifier…`, DistilBERT's
    /// `pre_classifier…`), which trains alongside the adapters.
    static func headSpecs(_ model: TransformerModel) -> [ParameterSpec] {
        model.tree.layout.specs.filter { !$0.name.hasPrefix(model.family.weightPrefix + ".") }
    }

    func configJSON() -> [String: Any] {
        let head = Self.headSpecs(model).map { String($0.name.split(separator: ".")[0]) }
        let modulesToSave = head.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return [
            "peft_type": "LORA", "task_type": "SEQ_CLS",
            "base_model_name_or_path": baseModelNameOrPath, "revision": NSNull(),
            "r": lora.config.rank, "lora_alpha": Double(lora.config.alpha), "lora_dropout": Double(lora.config.dropout),
            "target_modules": targetModules(), "modules_to_save": modulesToSave,
            "bias": "none", "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": true,
            "layers_to_transform": NSNull(), "layers_pattern": NSNull(), "rank_pattern": [String: Any](),
            "alpha_pattern": [String: Any](), "use_rslora": false,
        ]
    }

    /// PEFT matches a module when its name equals a target or ends with "." + target. Each
    /// target is named by the shortest suffix of its path that matches only targeted modules
    /// ("query"; "attention.output.dense" since plain "dense" would also catch the pooler).
    /// BERT's "output.dense" has no such suffix (it also ends "attention.output.dense"), so
    /// then the targets become one regex, which PEFT full-matches against the module name.
    func targetModules() -> Any {
        let family = model.family
        let modules = Set(model.tree.layout.specs.map { spec in
            spec.name.split(separator: ".").dropLast().joined(separator: ".")
        })
        let targeted = Set(lora.layout.specs.map { spec in
            String(spec.name.dropFirst("base_model.model.".count)).components(separatedBy: ".lora_")[0]
        })
        var keys: [String] = []
        for target in lora.config.targets {
            let parts = target.modulePath(family: family).split(separator: ".")
            let suffix = (1...parts.count).lazy.map { parts.suffix($0).joined(separator: ".") }.first { suffix in
                modules.filter { $0 == suffix || $0.hasSuffix("." + suffix) }.allSatisfy(targeted.contains)
            }
            guard let suffix else {
                let paths = lora.config.targets.map { NSRegularExpression.escapedPattern(for: $0.modulePath(family: family)) }
                return ".*\\.layer\\.\\d+\\.(" + paths.joined(separator: "|") + ")"
            }
            keys.append(suffix)
        }
        return keys
    }
}
