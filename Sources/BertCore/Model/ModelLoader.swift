import Foundation

/// Loads a Hugging Face model directory (config.json + model.safetensors, or a sharded
/// model.safetensors.index.json) into a `TransformerModel`.
///
/// Names: the tree is registered under `*ForSequenceClassification` names (`bert.encoder…`,
/// `classifier…`); a bare encoder checkpoint (`BertModel`, e.g. all-MiniLM-L6-v2) stores the
/// same names without the `bert.` prefix, and both are accepted. Every expected tensor must be
/// present with its exact shape; all missing or mis-shaped ones are reported in one error.
/// Tensors the model does not use (position_ids, a pre-training head) are listed in
/// `LoadedWeights.unused` and otherwise ignored, as Hugging Face does.
public enum ModelLoader {
    public static func load(directory: URL) throws -> TransformerModel {
        try load(directory: directory, extraWeights: [])
    }

    /// `extraWeights` are further safetensors files whose tensors are loaded as if they were part
    /// of the checkpoint (e.g. a separately trained head), taking precedence over it.
    public static func load(directory: URL, extraWeights: [URL]) throws -> TransformerModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw BertError(.fileNotFound, "\(directory.path) does not exist")
        }
        guard isDirectory.boolValue else { throw BertError(.notAModel, "\(directory.path) is not a directory") }
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw BertError(.notAModel, "\(directory.path) is not a model directory: it has no config.json")
        }
        let config = try ModelConfig(contentsOf: configURL)
        let files = try extraWeights.map { try SafetensorsFile(path: $0.path) } + weightFiles(in: directory)
        return try load(config: config, weights: files)
    }

    /// The checkpoint's safetensors files, in the order they are searched.
    static func weightFiles(in directory: URL) throws -> [SafetensorsFile] {
        let fm = FileManager.default
        let single = directory.appendingPathComponent("model.safetensors")
        if fm.fileExists(atPath: single.path) { return [try SafetensorsFile(path: single.path)] }
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if fm.fileExists(atPath: index.path) {
            guard let data = fm.contents(atPath: index.path),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = json["weight_map"] as? [String: String]
            else { throw BertError(.invalidSafetensors, "\(index.path) has no weight_map") }
            return try Set(map.values).sorted().map { try SafetensorsFile(path: directory.appendingPathComponent($0).path) }
        }
        if fm.fileExists(atPath: directory.appendingPathComponent("pytorch_model.bin").path) {
            throw BertError(.unsupportedModel, "\(directory.path) has only pytorch_model.bin; bertd reads safetensors (convert with transformers: model.save_pretrained(dir, safe_serialization=True))")
        }
        throw BertError(.notAModel, "\(directory.path) is not a model directory: it has no model.safetensors")
    }

    public static func load(config: ModelConfig, weights files: [SafetensorsFile]) throws -> TransformerModel {
        let prefix = config.family.basePrefix + "."
        func find(_ name: String) -> (SafetensorsFile, String)? {
            for file in files {
                if file.tensors[name] != nil { return (file, name) }
                if name.hasPrefix(prefix), file.tensors[String(name.dropFirst(prefix.count))] != nil {
                    return (file, String(name.dropFirst(prefix.count)))
                }
            }
            return nil
        }

        // The head: present when the checkpoint has one; required when config.json says so.
        let finalHeadName = config.family == .roberta ? "classifier.out_proj.weight" : "classifier.weight"
        var numLabels = 0
        if let (file, name) = find(finalHeadName), let shape = file.tensors[name]?.shape, shape.count == 2 {
            numLabels = shape[0]
        } else if config.declaresSequenceClassification {
            numLabels = max(config.labels.count, 2)  // registered so that its absence is reported
        }
        let withPooler = config.family == .bert
            && (numLabels > 0 || find("bert.pooler.dense.weight") != nil)
        let tree = ModuleTree(config: config, numLabels: numLabels, pooler: withPooler)
        let arena = ParameterArena(layout: tree.layout)

        var problems: [String] = []
        var used = Set<String>()
        for spec in tree.layout.specs {
            guard let (file, name) = find(spec.name), let info = file.tensors[name] else {
                problems.append("missing \(spec.name) \(spec.ref.shape)")
                continue
            }
            guard info.shape == spec.ref.shape else {
                problems.append("\(spec.name) has shape \(info.shape), expected \(spec.ref.shape)")
                continue
            }
            guard info.dtype.isFloatingPoint else {
                problems.append("\(spec.name) is \(info.dtype.rawValue), expected a floating-point tensor")
                continue
            }
            try file.readFloats(name, into: arena[spec.ref])
            used.insert(name)
        }
        if !problems.isEmpty {
            let unused = files.flatMap { $0.tensors.keys }.filter { !used.contains($0) }.sorted()
            var message = "the checkpoint does not fit a \(config.family.rawValue) model with this config.json: "
                + problems.joined(separator: "; ")
            if !unused.isEmpty { message += ". Unexpected tensors: " + unused.prefix(20).joined(separator: ", ") + (unused.count > 20 ? ", …" : "") }
            throw BertError(.weightMismatch, message)
        }
        return TransformerModel(config: config, tree: tree, parameters: arena)
    }
}
