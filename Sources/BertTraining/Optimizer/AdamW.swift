import BertCore
import Foundation

/// Trainable tensors of one arena and their gradients (same layout): the model's, or LoRA's.
public struct ParameterGroup {
    public let parameters: ParameterArena
    public let gradients: ParameterArena
    public let specs: [ParameterSpec]

    public init(parameters: ParameterArena, gradients: ParameterArena, specs: [ParameterSpec]) {
        precondition(parameters.count == gradients.count, "parameters and gradients must share a layout")
        self.parameters = parameters
        self.gradients = gradients
        self.specs = specs
    }
}

public struct AdamWConfig: Sendable {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// false: the Hugging Face recipe, decay only tensors whose `ParameterSpec.decays` is set
    /// (not biases, not LayerNorm). true: torch.optim.AdamW's default, decay every parameter.
    public var decayEveryParameter: Bool

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01,
                decayEveryParameter: Bool = false) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decayEveryParameter = decayEveryParameter
    }
}

/// AdamW (Loshchilov & Hutter) with torch.optim.AdamW's arithmetic (_single_tensor_adamw):
///   p ← p·(1 − lr·wd);  m ← m + (1−β1)(g − m);  v ← β2·v + (1−β2)·g²
///   p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
/// Moments live in arenas with the parameters' layout; one pass per step walks every
/// trainable tensor, split across the pool.
public final class AdamW {
    public let config: AdamWConfig
    public let groups: [ParameterGroup]
    /// Optimizer steps taken (torch's `step` state): the first update uses t = 1.
    public private(set) var stepCount = 0
    /// Per group and tensor, a factor on the learning rate (layer-wise decay); 1 by default.
    public var learningRateScales: [[Float]]
    private let moments: [(m: ParameterArena, v: ParameterArena)]
    private let pool: ComputePool

    public init(groups: [ParameterGroup], config: AdamWConfig = AdamWConfig()) {
        self.groups = groups
        self.config = config
        moments = groups.map { (ParameterArena(layout: $0.parameters.layout), ParameterArena(layout: $0.parameters.layout)) }
        learningRateScales = groups.map { Array(repeating: 1, count: $0.specs.count) }
        pool = ComputeThreads.pool
    }

    /// One update of every trainable tensor from its gradient. With `maxGradNorm`, the gradients
    /// are first scaled as torch.nn.utils.clip_grad_norm_ does. Returns the gradients' global
    /// L2 norm before clipping.
    @discardableResult
    public func step(learningRate lr: Float, maxGradNorm: Float? = nil) -> Float {
        let norm = gradientNorm(groups, pool: pool)
        if let maxGradNorm { clipGradients(groups, norm: norm, maxNorm: maxGradNorm, pool: pool) }
        stepCount += 1
        let t = Double(stepCount)
        let c = config
        // torch computes these in Python floats (double) and rounds once when they meet a tensor.
        let correction1 = 1 - Foundation.pow(Double(c.beta1), t)
        let correction2Sqrt = Float((1 - Foundation.pow(Double(c.beta2), t)).squareRoot())
        let parts = pool.threadCount
        for (g, (group, (m, v))) in zip(groups, moments).enumerated() {
            let scales = learningRateScales[g]
            pool.run { part in
                for (index, spec) in group.specs.enumerated() {
                    let tensorLR = lr * scales[index]
                    let stepSize = Float(Double(tensorLR) / correction1)
                    let decayFactor = 1 - tensorLR * c.weightDecay
                    let r = share(spec.ref.count, part: part, parts: parts, granularity: 256)
                    guard !r.isEmpty else { continue }
                    let offset = spec.ref.offset + r.lowerBound
                    adamWUpdate(parameters: group.parameters.base + offset, gradients: group.gradients.base + offset,
                                m: m.base + offset, v: v.base + offset, count: r.count,
                                decayFactor: (c.decayEveryParameter || spec.decays) ? decayFactor : 1,
                                beta1: c.beta1, beta2: c.beta2, stepSize: stepSize, correction2Sqrt: correction2Sqrt,
                                epsilon: c.epsilon)
                }
            }
        }
        return norm
    }
}

/// The per-element AdamW update of `AdamW.step` over one contiguous range.
func adamWUpdate(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                 m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
                 decayFactor: Float, beta1: Float, beta2: Float, stepSize: Float, correction2Sqrt: Float, epsilon: Float) {
    let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
    for i in 0..<count {
        let grad = g[i]
        let param = decayFactor == 1 ? p[i] : p[i] * decayFactor
        let mi = m[i] + oneMinusBeta1 * (grad - m[i])       // exp_avg.lerp_(grad, 1 − β1)
        let vi = v[i] * beta2 + oneMinusBeta2 * grad * grad  // exp_avg_sq.mul_(β2).addcmul_(g, g, 1 − β2)
        m[i] = mi
        v[i] = vi
        let denominator = vi.squareRoot() / correction2Sqrt + epsilon
        p[i] = param - stepSize * (mi / denominator)
    }
}

/// The global L2 norm of every trainable gradient (accumulated in Double).
public func gradientNorm(_ groups: [ParameterGroup], pool: ComputePool = ComputeThreads.pool) -> Float {
    let parts = pool.threadCount
    let sums = UnsafeMutablePointer<Double>.allocate(capacity: parts)
    sums.initialize(repeating: 0, count: parts)
    defer { sums.deallocate() }
    for group in groups {
        pool.run { part in
            var total = 0.0
            for spec in group.specs {
                let r = share(spec.ref.count, part: part, parts: parts, granularity: 256)
                let g = group.gradients.base + spec.ref.offset
                var acc: Float = 0, block = 0
                for i in r {
                    acc += g[i] * g[i]
                    block += 1
                    if block == 1024 { total += Double(acc); acc = 0; block = 0 }  // keep Float partial sums short
                }
                total += Double(acc)
            }
            sums[part] += total
        }
    }
    var total = 0.0
    for i in 0..<parts { total += sums[i] }
    return Float(total.squareRoot())
}

/// Scales every trainable gradient by maxNorm / (norm + 1e-6) when that is below 1
/// (torch.nn.utils.clip_grad_norm_).
public func clipGradients(_ groups: [ParameterGroup], norm: Float, maxNorm: Float, pool: ComputePool = ComputeThreads.pool) {
    let coefficient = maxNorm / (norm + 1e-6)
    guard coefficient < 1 else { return }
    let parts = pool.threadCount
    for group in groups {
        pool.run { part in
            for spec in group.specs {
                let r = share(spec.ref.count, part: part, parts: parts, granularity: 256)
                let g = group.gradients.base + spec.ref.offset
                for i in r { g[i] *= coefficient }
            }
        }
    }
}

extension AdamW {
    /// The moment arenas, for checkpoints (read) and resuming (written into before the next step).
    public var checkpointMoments: [OptimizerMoments] {
        zip(groups, moments).map { OptimizerMoments(specs: $0.specs, firstMoment: $1.m, secondMoment: $1.v) }
    }

    /// Continues the bias correction from a resumed run's step count.
    public func restoreStepCount(_ n: Int) { stepCount = n }

    /// Layer-wise learning-rate decay: the head keeps the full rate, the top transformer layer
    /// gets rate·decay, the next decay², …, the embeddings decay^(layers+1). Depth is read from
    /// the tensor's Hugging Face name (`…layer.N.…`, `…embeddings.…`), LoRA tensors included.
    public func applyLayerwiseDecay(_ decay: Float, layers: Int) {
        learningRateScales = groups.map { group in
            group.specs.map { spec in
                let depth: Int
                if let range = spec.name.range(of: #"\.layer\.(\d+)\."#, options: .regularExpression),
                   let n = Int(spec.name[range].split(separator: ".")[1]) {
                    depth = n + 1
                } else if spec.name.contains("embeddings.") {
                    depth = 0
                } else {
                    depth = layers + 1
                }
                return Foundation.pow(decay, Float(layers + 1 - depth))
            }
        }
    }
}
