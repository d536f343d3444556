import BertCore
import Foundation

/// One adapter on one projection: A (r, in), B (out, r) in the adapters' arena.
struct LoRAAdapter: Sendable {
    let layer: Int
    let target: LoRATarget
    let a: ParameterRef
    let b: ParameterRef
    var rank: Int { a.shape[0] }
    var inFeatures: Int { a.shape[1] }
    var outFeatures: Int { b.shape[0] }
}

/// The LoRA parameters of a model in their own arena, under PEFT's names
/// (`base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.default.weight`), so an
/// adapter saves and loads as PEFT's adapter_model.safetensors does. Gradients share the layout.
public final class LoRAAdapters: @unchecked Sendable {
    public let config: LoRAConfig
    public let parameters: ParameterArena
    public let gradients: ParameterArena
    /// adapters[layer] in the order of config.targets.
    let adapters: [[LoRAAdapter]]

    public var layout: ParameterLayout { parameters.layout }

    /// New adapters as PEFT initialises them: A ~ U(−1/√in, 1/√in) (kaiming_uniform_ with a = √5),
    /// B = 0, so the adapted model starts as the base model.
    public init(model: TransformerModel, config: LoRAConfig, seed: UInt64) throws {
        try config.validate()
        let family = model.family
        var builder = ParameterBuilder()
        var adapters: [[LoRAAdapter]] = []
        for layer in 0..<model.config.numLayers {
            var row: [LoRAAdapter] = []
            for target in config.targets {
                let module = family.layerModule(layer, target.modulePath(family: family))
                guard let base = model.tree.layout.spec(named: module + ".weight") else {
                    throw BertError(.unsupportedModel, "LoRA target \(module) is not a parameter of this model")
                }
                let (out, inF) = (base.ref.shape[0], base.ref.shape[1])
                let a = builder.tensor("base_model.model.\(module).lora_A.default.weight", shape: [config.rank, inF], decays: true)
                let b = builder.tensor("base_model.model.\(module).lora_B.default.weight", shape: [out, config.rank], decays: true)
                row.append(LoRAAdapter(layer: layer, target: target, a: a, b: b))
            }
            adapters.append(row)
        }
        self.config = config
        self.adapters = adapters
        parameters = ParameterArena(layout: builder.layout)
        gradients = ParameterArena(layout: builder.layout)
        var state = DropoutRNG.mix64(seed ^ 0x4C6F_5241)  // "LoRA"
        for adapter in adapters.joined() {
            let bound = 1 / Float(adapter.inFeatures).squareRoot()
            let a = parameters[adapter.a]
            for i in 0..<adapter.a.count {
                state = DropoutRNG.mix64(state)
                a[i] = (Float(state >> 40) * 0x1p-24 * 2 - 1) * bound
            }
        }
    }

    /// Loads every adapter tensor from a PEFT adapter file; all missing or mis-shaped names are
    /// reported at once.
    public func load(_ file: SafetensorsFile) throws {
        var problems: [String] = []
        for spec in layout.specs {
            guard let info = file.tensors[spec.name] else { problems.append("missing \(spec.name)"); continue }
            guard info.shape == spec.ref.shape else {
                problems.append("\(spec.name) has shape \(info.shape), expected \(spec.ref.shape)")
                continue
            }
            try file.readFloats(spec.name, into: parameters[spec.ref])
        }
        if !problems.isEmpty {
            throw BertError(.weightMismatch, "\(file.path) does not fit these LoRA adapters: " + problems.joined(separator: "; "))
        }
    }

    /// Writes the adapters as a safetensors file under PEFT's names.
    public func write(to url: URL) throws {
        var writer = SafetensorsWriter()
        for spec in layout.specs { writer.add(spec.name, shape: spec.ref.shape, values: parameters.values(spec.ref)) }
        writer.metadata = ["format": "pt", "lora_rank": "\(config.rank)", "lora_alpha": "\(config.alpha)"]
        try writer.write(to: url)
    }
}
