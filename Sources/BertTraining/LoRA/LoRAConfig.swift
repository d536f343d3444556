import BertCore

/// A projection of an encoder layer that can carry a LoRA adapter.
public enum LoRATarget: String, Sendable, CaseIterable {
    case query, key, value, attentionOutput, intermediate, output

    /// The module path of this projection inside a layer of `family` (PEFT names the adapter
    /// after it: `<path>.lora_A.default.weight`).
    func modulePath(family: ModelFamily) -> String {
        let m = family.layerModules
        switch self {
        case .query: return m.query
        case .key: return m.key
        case .value: return m.value
        case .attentionOutput: return m.attentionOutput
        case .intermediate: return m.intermediate
        case .output: return m.output
        }
    }
}

/// LoRA (Hu et al. 2021) as PEFT's LoraConfig: y = W x + b + (alpha/r) · B A dropout(x),
/// A (r, in) and B (out, r) trained, W frozen.
public struct LoRAConfig: Sendable, Equatable {
    public var rank: Int
    public var alpha: Float
    public var dropout: Float
    public var targets: [LoRATarget]

    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targets: [LoRATarget] = [.query, .value]) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
    }

    /// PEFT's `scaling` (without rsLoRA).
    public var scale: Float { alpha / Float(rank) }

    func validate() throws {
        guard rank > 0 else { throw BertError(.invalidInput, "LoRA rank must be positive (got \(rank))") }
        guard dropout >= 0, dropout < 1 else { throw BertError(.invalidInput, "LoRA dropout \(dropout) is outside [0, 1)") }
        guard !targets.isEmpty, Set(targets).count == targets.count else {
            throw BertError(.invalidInput, "LoRA needs at least one target, each at most once")
        }
    }
}
