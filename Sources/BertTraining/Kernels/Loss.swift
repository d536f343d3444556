import BertCore
import Foundation

/// The training objective on the logits (B, C) of a batch and its labels (B).
public enum LossFunction: Sendable, Equatable {
    /// Softmax cross-entropy, mean over the batch (torch.nn.functional.cross_entropy).
    case crossEntropy
    /// Class-weighted cross-entropy as torch computes it with `weight=`: Σ w[y]·nll / Σ w[y].
    case weightedCrossEntropy(classWeights: [Float])
    /// Focal loss (Lin et al. 2017): −(1 − p_y)^γ · log p_y, mean over the batch; γ = 0 is cross-entropy.
    case focal(gamma: Float)

    /// The loss of the batch; dLogits (B, C) is overwritten with ∂loss/∂logits.
    /// probs (B, C) is scratch that receives the softmax.
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
        }
    }

    /// Checks labels and class weights against the number of classes.
    func validate(labels: [Int], classes: Int) throws {
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw BertError(.invalidInput, "label \(bad) is outside 0..<\(classes)")
        }
        if case .weightedCrossEntropy(let w) = self, w.count != classes {
            throw BertError(.invalidInput, "\(w.count) class weights for \(classes) classes")
        }
    }
}

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
