/// Where one parameter tensor lives in the arena: an offset and a shape (row-major, as in PyTorch).
public struct ParameterRef: Sendable, Hashable {
    public let offset: Int
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
}

/// A named parameter: its Hugging Face name and its place in the arena.
public struct ParameterSpec: Sendable {
    public let name: String
    public let ref: ParameterRef
    /// AdamW as in the Hugging Face recipe decays every weight matrix but not biases or LayerNorm.
    public let decays: Bool
}

/// The layout of every parameter of a model in one contiguous allocation (llm.c style): the
/// optimizer and checkpoints become one loop, and gradients share the same layout.
///
/// Built by walking the model's module tree with `ParameterBuilder`, so each tensor's name is the
/// path of module names — the Hugging Face name, with no rename table.
public struct ParameterLayout: Sendable {
    public private(set) var specs: [ParameterSpec] = []
    public private(set) var totalCount = 0
    private var indexByName: [String: Int] = [:]

    public func spec(named name: String) -> ParameterSpec? { indexByName[name].map { specs[$0] } }

    mutating func append(_ name: String, shape: [Int], decays: Bool, aligned: Bool) -> ParameterRef {
        precondition(indexByName[name] == nil, "parameter \(name) registered twice")
        if aligned { totalCount = (totalCount + 15) & ~15 }  // 64-byte alignment for SIMD loads
        let ref = ParameterRef(offset: totalCount, shape: shape)
        indexByName[name] = specs.count
        specs.append(ParameterSpec(name: name, ref: ref, decays: decays))
        totalCount += ref.count
        return ref
    }
}

/// A dense layer `y = x Wᵀ + b`, as torch.nn.Linear: weight [out, in], bias [out].
public struct Linear: Sendable {
    public let weight: ParameterRef
    public let bias: ParameterRef
    public var outFeatures: Int { weight.shape[0] }
    public var inFeatures: Int { weight.shape[1] }
}

/// torch.nn.LayerNorm over the last dimension: weight and bias [dim].
public struct LayerNormWeights: Sendable {
    public let weight: ParameterRef
    public let bias: ParameterRef
    public let eps: Float
}

/// Registers parameters under a path of module names (`bert.encoder.layer.0.attention.self.query`).
public struct ParameterBuilder {
    public private(set) var layout = ParameterLayout()
    private var path: [String] = []

    public init() {}

    private func fullName(_ leaf: String) -> String { (path + [leaf]).joined(separator: ".") }

    /// Runs `body` with `name` appended to the module path.
    public mutating func scope<T>(_ name: String, _ body: (inout ParameterBuilder) -> T) -> T {
        path.append(contentsOf: name.split(separator: ".").map(String.init))
        defer { path.removeLast(name.split(separator: ".").count) }
        return body(&self)
    }

    public mutating func tensor(_ name: String, shape: [Int], decays: Bool) -> ParameterRef {
        layout.append(fullName(name), shape: shape, decays: decays, aligned: true)
    }

    public mutating func linear(_ name: String, out: Int, in inFeatures: Int) -> Linear {
        let w = layout.append(fullName(name + ".weight"), shape: [out, inFeatures], decays: true, aligned: true)
        let b = layout.append(fullName(name + ".bias"), shape: [out], decays: false, aligned: true)
        return Linear(weight: w, bias: b)
    }

    /// Several linears of the same input laid out back to back — weights first, then biases — so
    /// that together they are one [n·out, in] Linear: Q, K and V become one GEMM.
    public mutating func fusedLinear(_ names: [String], out: Int, in inFeatures: Int) -> Linear {
        var weights: [ParameterRef] = []
        for (i, name) in names.enumerated() {
            weights.append(layout.append(fullName(name + ".weight"), shape: [out, inFeatures], decays: true, aligned: i == 0))
        }
        var biases: [ParameterRef] = []
        for (i, name) in names.enumerated() {
            biases.append(layout.append(fullName(name + ".bias"), shape: [out], decays: false, aligned: i == 0))
        }
        return Linear(
            weight: ParameterRef(offset: weights[0].offset, shape: [out * names.count, inFeatures]),
            bias: ParameterRef(offset: biases[0].offset, shape: [out * names.count]))
    }

    public mutating func layerNorm(_ name: String, dim: Int, eps: Float) -> LayerNormWeights {
        let w = layout.append(fullName(name + ".weight"), shape: [dim], decays: false, aligned: true)
        let b = layout.append(fullName(name + ".bias"), shape: [dim], decays: false, aligned: true)
        return LayerNormWeights(weight: w, bias: b, eps: eps)
    }
}
