import BertCore
import Foundation

/// The training objective on the logits (B, C) of a batch and its targets (`TrainingTargets`).
public enum LossFunction: Sendable, Equatable {
    // Single-label (softmax over the C labels).
    /// Softmax cross-entropy, mean over the batch (torch.nn.functional.cross_entropy).
    case crossEntropy
    /// Class-weighted cross-entropy as torch computes it with `weight=`: Σ w[y]·nll / Σ w[y].
    case weightedCrossEntropy(classWeights: [Float])
    /// Focal loss (Lin et al. 2017): −(1 − p_y)^γ · log p_y, mean over the batch; γ = 0 is cross-entropy.
    case focal(gamma: Float)
    /// Cross-entropy against (1 − ε)·one-hot + ε/C, as `CrossEntropyLoss(label_smoothing=ε)`.
    case labelSmoothing(epsilon: Float)
    // Multi-label (a sigmoid per label).
    /// `BCEWithLogitsLoss(pos_weight=)`, mean over the B × C elements; nil weights are all 1.
    case binaryCrossEntropy(positiveWeights: [Float]?)
    /// torchvision's `sigmoid_focal_loss`: α_t (1 − p_t)^γ · BCE, mean over the elements (α < 0: no α).
    case sigmoidFocal(alpha: Float, gamma: Float)
    // Regression (one output).
    /// `MSELoss`, mean over the batch.
    case meanSquaredError
    /// `HuberLoss(delta=)`, mean over the batch.
    case huber(delta: Float)

    /// The kind of targets the loss trains towards.
    public var task: Task {
        switch self {
        case .crossEntropy, .weightedCrossEntropy, .focal, .labelSmoothing: return .singleLabel
        case .binaryCrossEntropy, .sigmoidFocal: return .multiLabel
        case .meanSquaredError, .huber: return .regression
        }
    }

    /// The loss of the batch; dLogits (B, C) is overwritten with ∂loss/∂logits.
    /// probs (B, C) is scratch that receives the softmax (single-label), the sigmoids
    /// (multi-label) or the outputs themselves (regression).
    func evaluate(logits: UnsafePointer<Float>, targets: TrainingTargets, classes: Int,
                  probs: UnsafeMutablePointer<Float>, dLogits: UnsafeMutablePointer<Float>) -> Float {
        switch targets {
        case .classes(let labels): return evaluate(logits: logits, labels: labels, classes: classes, probs: probs, dLogits: dLogits)
        case .labelSets(let y): return multiLabel(logits: logits, targets: y, classes: classes, probs: probs, dLogits: dLogits)
        case .values(let y): return regression(outputs: logits, targets: y, probs: probs, dOutputs: dLogits)
        }
    }

    /// Single-label losses on class ids.
    func evaluate(logits: UnsafePointer<Float>, labels: [Int], classes: Int,
                  probs: UnsafeMutablePointer<Float>, dLogits: UnsafeMutablePointer<Float>) -> Float {
        let rows = labels.count
        var losses = [Double](repeating: 0, count: rows)
        crossEntropyForward(losses: &losses, probs: probs, logits: logits, labels: labels, rows: rows, classes: classes)
        switch self {
        case .crossEntropy:
            let weights = [Double](repeating: 1 / Double(rows), count: rows)
            crossEntropyBackward(dLogits: dLogits, probs: probs, labels: labels, rowWeights: weights, classes: classes)
            return Float(losses.reduce(0, +) / Double(rows))
        case .weightedCrossEntropy(let classWeights):
            let w = labels.map { Double(classWeights[$0]) }
            let total = w.reduce(0, +)
            crossEntropyBackward(dLogits: dLogits, probs: probs, labels: labels, rowWeights: w.map { $0 / total }, classes: classes)
            return Float(zip(w, losses).reduce(0) { $0 + $1.0 * $1.1 } / total)
        case .focal(let gamma):
            let focal = focalLossForward(nll: losses, gamma: Double(gamma))
            focalLossBackward(dLogits: dLogits, probs: probs, labels: labels, gamma: Double(gamma), classes: classes)
            return Float(focal.reduce(0, +) / Double(rows))
        case .labelSmoothing(let epsilon):
            // loss_r = (1 − ε)·nll_r + ε·mean_c(−log p_c); ∂/∂z_c = p_c − ((1 − ε)·δ_cy + ε/C), / B
            let e = Double(epsilon), c = Double(classes)
            var total = 0.0
            for r in 0..<rows {
                let p = probs + r * classes
                // −log p_k = logSumExp − z_k exactly (nll_r is that for k = y).
                let logSum = losses[r] + Double(logits[r * classes + labels[r]])
                let meanNegLog = (0..<classes).reduce(0.0) { $0 + (logSum - Double(logits[r * classes + $1])) } / c
                total += (1 - e) * losses[r] + e * meanNegLog
                for k in 0..<classes {
                    let target = (k == labels[r] ? 1 - e : 0) + e / c
                    dLogits[r * classes + k] = Float((Double(p[k]) - target) / Double(rows))
                }
            }
            return Float(total / Double(rows))
        case .binaryCrossEntropy, .sigmoidFocal, .meanSquaredError, .huber:
            preconditionFailure("\(self) does not train towards classes (validate first)")
        }
    }

    /// Multi-label losses on multi-hot targets (B, C): the mean over the B × C elements.
    private func multiLabel(logits: UnsafePointer<Float>, targets y: [Float], classes: Int,
                            probs: UnsafeMutablePointer<Float>, dLogits: UnsafeMutablePointer<Float>) -> Float {
        let n = y.count
        var total = 0.0
        for i in 0..<n {
            let z = Double(logits[i]), t = Double(y[i])
            let p = 1 / (1 + Foundation.exp(-z))
            probs[i] = Float(p)
            // log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z), computed stably.
            let logP = -softplus(-z), logQ = -softplus(z)
            switch self {
            case .binaryCrossEntropy(let weights):
                let w = Double(weights?[i % classes] ?? 1)
                total += -(w * t * logP + (1 - t) * logQ)
                // ∂/∂z = σ(z)·(w·t + 1 − t) − w·t
                dLogits[i] = Float((p * (w * t + 1 - t) - w * t) / Double(n))
            case .sigmoidFocal(let alpha, let gamma):
                let a = Double(alpha), g = Double(gamma)
                let pt = p * t + (1 - p) * (1 - t)
                let ce = -(t * logP + (1 - t) * logQ)
                let alphaT = a >= 0 ? a * t + (1 - a) * (1 - t) : 1
                let q = max(1 - pt, 0)
                total += alphaT * Foundation.pow(q, g) * ce
                // With ∂p_t/∂z = (2t − 1)·p(1 − p) and ∂ce/∂z = p − t:
                // ∂/∂z = α_t·[−γ q^{γ−1}·ce·∂p_t/∂z + q^γ·(p − t)]
                let first = q > 0 && g > 0 ? -g * Foundation.pow(q, g - 1) * ce * (2 * t - 1) * p * (1 - p) : 0
                dLogits[i] = Float(alphaT * (first + Foundation.pow(q, g) * (p - t)) / Double(n))
            default:
                preconditionFailure("\(self) does not train towards label sets (validate first)")
            }
        }
        return Float(total / Double(n))
    }

    /// Regression losses on one output per sequence: the mean over the batch.
    private func regression(outputs: UnsafePointer<Float>, targets y: [Float],
                            probs: UnsafeMutablePointer<Float>, dOutputs: UnsafeMutablePointer<Float>) -> Float {
        let n = y.count
        var total = 0.0
        for i in 0..<n {
            probs[i] = outputs[i]
            let r = Double(outputs[i]) - Double(y[i])
            switch self {
            case .meanSquaredError:
                total += r * r
                dOutputs[i] = Float(2 * r / Double(n))
            case .huber(let delta):
                let d = Double(delta)
                if abs(r) <= d {
                    total += 0.5 * r * r
                    dOutputs[i] = Float(r / Double(n))
                } else {
                    total += d * (abs(r) - 0.5 * d)
                    dOutputs[i] = Float((r > 0 ? d : -d) / Double(n))
                }
            default:
                preconditionFailure("\(self) does not train towards values (validate first)")
            }
        }
        return Float(total / Double(n))
    }

    /// Checks targets, their kind and the loss's parameters against the model's outputs.
    func validate(targets: TrainingTargets, classes: Int) throws {
        switch targets {
        case .classes(let labels): try validate(labels: labels, classes: classes)
        case .labelSets(let y):
            guard task == .multiLabel else { throw BertError(.invalidInput, "label sets need a multi-label loss (got \(self))") }
            guard classes > 0, y.count % classes == 0 else { throw BertError(.invalidInput, "\(y.count) targets are not rows of \(classes) labels") }
            if let bad = y.first(where: { $0 != 0 && $0 != 1 }) { throw BertError(.invalidInput, "a label-set target is \(bad), not 0 or 1") }
            if case .binaryCrossEntropy(let w?) = self, w.count != classes {
                throw BertError(.invalidInput, "\(w.count) positive weights for \(classes) labels")
            }
        case .values(let y):
            guard task == .regression else { throw BertError(.invalidInput, "numeric targets need a regression loss (got \(self))") }
            guard classes == 1 else { throw BertError(.invalidInput, "regression needs a model with one output (it has \(classes))") }
            if let bad = y.first(where: { !$0.isFinite }) { throw BertError(.invalidInput, "a regression target is \(bad)") }
        }
    }

    /// Checks class ids and class weights against the number of classes.
    func validate(labels: [Int], classes: Int) throws {
        guard task == .singleLabel else { throw BertError(.invalidInput, "class ids need a single-label loss (got \(self))") }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw BertError(.invalidInput, "label \(bad) is outside 0..<\(classes)")
        }
        if case .weightedCrossEntropy(let w) = self, w.count != classes {
            throw BertError(.invalidInput, "\(w.count) class weights for \(classes) classes")
        }
        if case .labelSmoothing(let e) = self, !(e >= 0 && e < 1) {
            throw BertError(.invalidInput, "label smoothing \(e) is outside [0, 1)")
        }
    }
}

/// The kind of a classifier's task, as Hugging Face's `problem_type`.
public enum Task: String, Sendable, CaseIterable, Codable {
    case singleLabel = "single_label_classification"
    case multiLabel = "multi_label_classification"
    case regression
}

/// log(1 + eᶻ) without overflow.
func softplus(_ z: Double) -> Double { z > 0 ? z + Foundation.log1p(Foundation.exp(-z)) : Foundation.log1p(Foundation.exp(z)) }

/// losses[r] = −log softmax(logits[r])[labels[r]] and probs = softmax(logits), per row.
/// logits and probs are (rows, classes); the log-sum-exp runs in Double.
func crossEntropyForward(losses: inout [Double], probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                         labels: [Int], rows: Int, classes: Int) {
    for r in 0..<rows {
        let z = logits + r * classes, p = probs + r * classes
        var m = -Double.infinity
        for c in 0..<classes { m = max(m, Double(z[c])) }
        var sum = 0.0
        for c in 0..<classes { sum += Foundation.exp(Double(z[c]) - m) }
        let logSum = m + Foundation.log(sum)
        for c in 0..<classes { p[c] = Float(Foundation.exp(Double(z[c]) - logSum)) }
        losses[r] = logSum - Double(z[labels[r]])
    }
}

/// dLogits[r] = rowWeights[r] · (probs[r] − onehot(labels[r])): the gradient of
/// Σ_r rowWeights[r]·nll[r] (1/B for the mean, w[y]/Σw for class weights). Overwrites dLogits.
func crossEntropyBackward(dLogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, labels: [Int],
                          rowWeights: [Double], classes: Int) {
    for r in 0..<labels.count {
        for c in 0..<classes {
            let onehot: Double = c == labels[r] ? 1 : 0
            dLogits[r * classes + c] = Float(rowWeights[r] * (Double(probs[r * classes + c]) - onehot))
        }
    }
}

/// Per-row focal loss from the rows' nll = −log p_y: (1 − p_y)^γ · nll.
func focalLossForward(nll: [Double], gamma: Double) -> [Double] {
    nll.map { n in
        let pt = Foundation.exp(-n)
        return Foundation.pow(max(1 - pt, 0), gamma) * n
    }
}

/// dLogits (rows, classes) = ∂/∂z of the mean focal loss (overwrites). With p_t = p_y,
/// FL = −(1−p_t)^γ log p_t, dFL/dp_t = γ(1−p_t)^{γ−1} log p_t − (1−p_t)^γ / p_t and
/// dp_t/dz_c = p_t(δ_cy − p_c).
func focalLossBackward(dLogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, labels: [Int],
                       gamma: Double, classes: Int) {
    let rows = labels.count
    for r in 0..<rows {
        let p = probs + r * classes
        let pt = max(Double(p[labels[r]]), Double.leastNormalMagnitude)
        let q = max(1 - pt, 0)
        // γ(1−p)^{γ−1}·log p → 0 as p → 1 for γ > 0 (the log goes to 0 faster): skip the 0·∞.
        let first = q > 0 && gamma > 0 ? gamma * Foundation.pow(q, gamma - 1) * Foundation.log(pt) : 0
        let dpt = first - Foundation.pow(q, gamma) / pt
        for c in 0..<classes {
            let onehot: Double = c == labels[r] ? 1 : 0
            dLogits[r * classes + c] = Float(dpt * pt * (onehot - Double(p[c])) / Double(rows))
        }
    }
}
