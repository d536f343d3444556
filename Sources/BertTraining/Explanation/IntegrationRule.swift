import Foundation

/// How integrated gradients approximates ∫₀¹ ∂f/∂x(x′ + α(x − x′)) dα: the α points and their
/// weights (Captum's `gausslegendre` and `riemann_trapezoid`).
public enum IntegrationRule: String, Sendable, CaseIterable {
    /// n-point Gauss–Legendre on [0, 1]: exact for polynomials of degree 2n − 1 in α.
    case gaussLegendre = "gauss_legendre"
    /// The trapezoid rule on n equally spaced points 0, 1/(n−1), …, 1 (n ≥ 2).
    case trapezoid

    /// The n points (α, weight); the weights sum to 1.
    public func points(_ n: Int) throws -> [(alpha: Double, weight: Double)] {
        guard n >= 1 else { throw ExplanationError.invalid("steps must be at least 1") }
        switch self {
        case .gaussLegendre:
            return Self.gaussLegendre(n).map { (alpha: ($0.node + 1) / 2, weight: $0.weight / 2) }
        case .trapezoid:
            guard n >= 2 else { throw ExplanationError.invalid("the trapezoid rule needs at least 2 steps") }
            let h = 1 / Double(n - 1)
            return (0..<n).map { k in (alpha: Double(k) * h, weight: k == 0 || k == n - 1 ? h / 2 : h) }
        }
    }

    /// Nodes and weights of n-point Gauss–Legendre on [−1, 1] (numpy's `leggauss`): the roots of
    /// the Legendre polynomial Pₙ by Newton's method from Chebyshev-like guesses.
    static func gaussLegendre(_ n: Int) -> [(node: Double, weight: Double)] {
        var result: [(node: Double, weight: Double)] = []
        for i in 1...n {
            var x = cos(Double.pi * (Double(i) - 0.25) / (Double(n) + 0.5))
            var derivative = 0.0
            for _ in 0..<100 {
                // Pₙ(x) by the three-term recurrence, and Pₙ′(x) from Pₙ and Pₙ₋₁.
                var p0 = 1.0, p1 = x
                for j in stride(from: 2, through: n, by: 1) {
                    let p2 = (Double(2 * j - 1) * x * p1 - Double(j - 1) * p0) / Double(j)
                    p0 = p1; p1 = p2
                }
                derivative = Double(n) * (x * p1 - p0) / (x * x - 1)
                let dx = p1 / derivative
                x -= dx
                if abs(dx) < 1e-15 { break }
            }
            result.append((node: x, weight: 2 / ((1 - x * x) * derivative * derivative)))
        }
        return result.sorted { $0.node < $1.node }
    }
}

/// What the input is compared with: x′ in x − x′.
public enum AttributionBaseline: String, Sendable, CaseIterable {
    /// Every non-special token's word embedding replaced by the padding token's ([PAD], <pad>).
    case pad
    /// Every non-special token's word embedding replaced by zeros.
    case zero
}

/// An explanation request the engine refuses (the protocol's `bad_request`).
public enum ExplanationError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let message): return message }
    }
}
