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

    /// Loads a model directory to compute in `precision`. int8 quantizes the encoder's dense
    /// layers and the word embeddings after loading (see `Precision`) and then gives back the
    /// pages of their fp32 copies, which int8 inference never reads: such a model serves, and is
    /// explained or trained only after loading the directory in fp32 (`TextModel.explanationModel()`).
    public static func load(directory: URL, precision: Precision) throws -> TransformerModel {
        let model = try load(directory: directory, extraWeights: []).converted(to: precision)
        return precision == .int8 ? model.releasingFP32Weights() : model
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
        let model = try load(config: config, weights: files)
        guard config.declaresEmbeddingHead else { return model }
        let head = try EmbeddingHead.load(directory: directory, hidden: config.hiddenSize, labels: config.labels)
        return TransformerModel(config: config, tree: model.tree, parameters: model.parameters, embeddingHead: head)
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

    /// A classification head to put on the model for fine-tuning: `labels` in id order. When the
    /// checkpoint has a head of that size it is kept; otherwise the head (and a missing BERT
    /// pooler) is initialised as Hugging Face does — weights N(0, initializer_range), biases 0.
    public struct NewHead: Sendable {
        public var labels: [String]
        public var seed: UInt64
        public init(labels: [String], seed: UInt64 = 42) {
            self.labels = labels
            self.seed = seed
        }
    }

    /// Loads a model directory for fine-tuning with the given labels (see `NewHead`).
    public static func load(directory: URL, newHead: NewHead) throws -> TransformerModel {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path) else {
            throw BertError(.notAModel, "\(directory.path) is not a model directory: it has no config.json")
        }
        let config = try ModelConfig(contentsOf: directory.appendingPathComponent("config.json"))
        return try load(config: config, weights: try weightFiles(in: directory), newHead: newHead)
    }

    public static func load(config: ModelConfig, weights files: [SafetensorsFile], newHead: NewHead? = nil) throws -> TransformerModel {
        var config = config
        let family = config.family
        let prefix = family.weightPrefix + "."
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
        let finalHeadName = family.head.output + ".weight"
        var numLabels = 0
        if let newHead {
            guard !newHead.labels.isEmpty else { throw BertError(.invalidInput, "a classification head needs at least one label") }
            numLabels = newHead.labels.count
            config.labels = newHead.labels
            if !config.architectures.contains(where: { $0.hasSuffix("ForSequenceClassification") }) {
                config.architectures = [family.sequenceClassificationArchitecture]
            }
        } else if let (file, name) = find(finalHeadName), let shape = file.tensors[name]?.shape, shape.count == 2 {
            numLabels = shape[0]
        } else if config.declaresSequenceClassification {
            numLabels = max(config.labels.count, 2)  // registered so that its absence is reported
        }
        let withPooler = family.hasPooler
            && ((numLabels > 0 && family.head.first == .pooler) || find(prefix + "pooler.dense.weight") != nil)
        // With a new head, a head of another size in the checkpoint is replaced, not an error
        // (transformers' ignore_mismatched_sizes).
        func initialisable(_ spec: ParameterSpec) -> Bool {
            newHead != nil && (!spec.name.hasPrefix(prefix) || spec.name.hasPrefix(prefix + "pooler."))
        }
        var random = NormalSampler(seed: newHead?.seed ?? 0)
        let tree = ModuleTree(config: config, numLabels: numLabels, pooler: withPooler)
        let arena = ParameterArena(layout: tree.layout)

        var problems: [String] = []
        var used = Set<String>()
        for spec in tree.layout.specs {
            let found = find(spec.name)
            if initialisable(spec), found == nil || found!.0.tensors[found!.1]?.shape != spec.ref.shape {
                let values = arena[spec.ref]
                let isBias = spec.ref.shape.count == 1
                for i in 0..<spec.ref.count { values[i] = isBias ? 0 : random.next() * config.initializerRange }
                continue
            }
            guard let (file, name) = found, let info = file.tensors[name] else {
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
            var message = "the checkpoint does not fit a \(family) model with this config.json: "
                + problems.joined(separator: "; ")
            if !unused.isEmpty { message += ". Unexpected tensors: " + unused.prefix(20).joined(separator: ", ") + (unused.count > 20 ? ", …" : "") }
            throw BertError(.weightMismatch, message)
        }
        return TransformerModel(config: config, tree: tree, parameters: arena)
    }
}

/// Standard normal samples from a seeded SplitMix64 (Box–Muller): reproducible initialisation.
struct NormalSampler {
    private var state: UInt64
    private var spare: Float?

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    private mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (Double(z >> 11) + 0.5) / Double(1 << 53)
    }

    mutating func next() -> Float {
        if let s = spare { spare = nil; return s }
        let r = (-2 * Foundation.log(uniform())).squareRoot(), t = 2 * Double.pi * uniform()
        spare = Float(r * Foundation.sin(t))
        return Float(r * Foundation.cos(t))
    }
}
