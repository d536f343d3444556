/// Limited-memory BFGS (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithm 7.4/7.5)
/// for a smooth unconstrained objective, with L-BFGS-B's choices where the algorithm leaves
/// some (first step 1/‖g‖, Moré–Thuente line search, skipped pairs, restart after a failed
/// search: lbfgsb.f `mainlb` and `lnsrlb`), stopped as scipy's L-BFGS-B stops when sklearn's
/// `LogisticRegression(solver="lbfgs")` calls it (sklearn/linear_model/_logistic.py:
/// `optimize.minimize(method="L-BFGS-B", options={"maxiter": max_iter, "maxls": 50,
/// "gtol": tol, "ftol": 64 * np.finfo(float).eps})`):
///
/// - converged: the largest |gradient component| is ≤ `gradientTolerance` (scipy's projected
///   gradient test; without bounds the projection is the gradient itself);
/// - or the last step lowered f by ≤ `relativeReductionTolerance` · max(|f|, |f_new|, 1);
/// - or `maxIterations` iterations ran (sklearn then warns ConvergenceWarning).
public enum LBFGS {
    public struct Options: Sendable, Equatable {
        /// Correction pairs kept (scipy's `maxcor`, 10 by default).
        public var memory = 10
        public var maxIterations = 1000
        public var gradientTolerance = 1e-4
        public var relativeReductionTolerance = 64 * Double.ulpOfOne
        public var maxLineSearchEvaluations = 50

        public init(maxIterations: Int = 1000, gradientTolerance: Double = 1e-4) {
            self.maxIterations = maxIterations
            self.gradientTolerance = gradientTolerance
        }
    }

    public enum Stop: String, Sendable, Codable {
        case converged = "gradient_below_tolerance"
        case relativeReduction = "relative_reduction_below_tolerance"
        case maxIterations = "max_iterations"
        case lineSearchFailed = "line_search_failed"
    }

    public struct Progress: Sendable {
        public var iteration: Int
        public var value: Double
        public var gradientNorm: Double
        public var evaluations: Int
    }

    public struct Result: Sendable {
        public var x: [Double]
        public var value: Double
        /// max |∂f/∂xᵢ| at x.
        public var gradientNorm: Double
        public var iterations: Int
        public var evaluations: Int
        public var stop: Stop
    }

    /// Minimizes f from x0. `objective(x, &gradient)` returns f(x) and writes ∇f(x).
    public static func minimize(_ x0: [Double], options: Options = Options(),
                                objective: (_ x: [Double], _ gradient: inout [Double]) -> Double,
                                progress: (Progress) throws -> Void = { _ in }) rethrows -> Result {
        let n = x0.count
        var x = x0
        var g = [Double](repeating: 0, count: n)
        var f = objective(x, &g)
        var evaluations = 1
        var memory = CorrectionPairs(capacity: options.memory)
        var iteration = 0
        func result(_ stop: Stop) -> Result {
            Result(x: x, value: f, gradientNorm: infinityNorm(g), iterations: iteration, evaluations: evaluations, stop: stop)
        }
        if infinityNorm(g) <= options.gradientTolerance { return result(.converged) }

        while iteration < options.maxIterations {
            // L-BFGS-B's mainlb and lnsrlb, without bounds.
            let d = memory.direction(gradient: g)
            let slope = dot(g, d)
            guard slope < 0 else {  // not a descent direction (rounding): forget the pairs, or give up
                if memory.isEmpty { return result(.lineSearchFailed) }
                memory.removeAll()
                continue
            }
            // The first direction is −g, of arbitrary scale: its first trial moves x by unit
            // length. Later (even after a restart, as in lnsrlb) the first trial is the step 1.
            var search = MoreThuente()
            var task = search.start(step: iteration == 0 ? min(1 / dot(d, d).squareRoot(), search.stpmax) : 1, value: f, slope: slope)
            var trialX = x, trialG = g, trialF = f, trialSlope = slope
            var tried = 0
            while task == .evaluate && tried < options.maxLineSearchEvaluations {
                for i in 0..<n { trialX[i] = x[i] + search.step * d[i] }
                trialF = objective(trialX, &trialG)
                trialSlope = dot(trialG, d)
                tried += 1
                task = trialF.isFinite ? search.next(value: trialF, slope: trialSlope) : .error("f is not finite")
            }
            evaluations += tried
            switch task {
            case .converged, .warning:
                break  // L-BFGS-B takes the last step evaluated in both cases
            case .evaluate, .error:
                // Out of evaluations, or no acceptable step: restart from steepest descent at the
                // same x, as L-BFGS-B does ("RESTART_FROM_LNSRCH"); with no pairs, stop.
                if memory.isEmpty { return result(.lineSearchFailed) }
                memory.removeAll()
                continue
            }
            iteration += 1
            let previousValue = f
            // Keep the pair unless its curvature is not clearly positive (lbfgsb.f: skip the
            // update when y·s ≤ ε·(−g·s)).
            let step = search.step
            if (trialSlope - slope) * step > Double.ulpOfOne * (-slope * step) {
                memory.append(s: (0..<n).map { trialX[$0] - x[$0] }, y: (0..<n).map { trialG[$0] - g[$0] })
            }
            (x, g, f) = (trialX, trialG, trialF)
            let gradientNorm = infinityNorm(g)
            try progress(Progress(iteration: iteration, value: f, gradientNorm: gradientNorm, evaluations: evaluations))
            if gradientNorm <= options.gradientTolerance { return result(.converged) }
            if (previousValue - f) / max(abs(previousValue), abs(f), 1) <= options.relativeReductionTolerance {
                return result(.relativeReduction)
            }
        }
        return result(.maxIterations)
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var total = 0.0
        for i in a.indices { total += a[i] * b[i] }
        return total
    }

    static func infinityNorm(_ a: [Double]) -> Double {
        a.reduce(0) { max($0, abs($1)) }
    }
}

/// The last m steps s = x₊ − x and gradient changes y = g₊ − g, and the two-loop recursion
/// that multiplies the gradient by the inverse-Hessian approximation they define.
struct CorrectionPairs {
    let capacity: Int
    private var s: [[Double]] = []
    private var y: [[Double]] = []
    private var rho: [Double] = []

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var isEmpty: Bool { s.isEmpty }

    mutating func removeAll() { s = []; y = []; rho = [] }

    /// Adds a pair (the caller has checked that its curvature sᵀy is positive), dropping the
    /// oldest beyond the capacity.
    mutating func append(s step: [Double], y change: [Double]) {
        let sy = LBFGS.dot(step, change)
        if s.count == capacity { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
        s.append(step)
        y.append(change)
        rho.append(1 / sy)
    }

    /// d = −H·g by Algorithm 7.4, with H₀ = (sᵀy / yᵀy)·I from the newest pair (eq. 7.20);
    /// without pairs, d = −g.
    func direction(gradient g: [Double]) -> [Double] {
        var q = g
        let m = s.count
        var alpha = [Double](repeating: 0, count: m)
        for i in stride(from: m - 1, through: 0, by: -1) {
            alpha[i] = rho[i] * LBFGS.dot(s[i], q)
            let (yi, a) = (y[i], alpha[i])
            for k in q.indices { q[k] -= a * yi[k] }
        }
        if m > 0 {
            let gamma = LBFGS.dot(s[m - 1], y[m - 1]) / LBFGS.dot(y[m - 1], y[m - 1])
            for k in q.indices { q[k] *= gamma }
        }
        for i in 0..<m {
            let beta = rho[i] * LBFGS.dot(y[i], q)
            let (si, c) = (s[i], alpha[i] - beta)
            for k in q.indices { q[k] += c * si[k] }
        }
        for k in q.indices { q[k] = -q[k] }
        return q
    }
}
