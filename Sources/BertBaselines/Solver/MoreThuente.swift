/// The line search of L-BFGS-B, which sklearn's lbfgs solver runs through scipy: Moré and
/// Thuente's `dcsrch` with its step rule `dcstep` (MINPACK-2; J. J. Moré and D. J. Thuente,
/// "Line search algorithms with guaranteed sufficient decrease", ACM TOMS 20(3), 1994), as
/// scipy/optimize/_dcsrch.py and L-BFGS-B's lnsrlb call it: ftol 1e-3, gtol 0.9, xtol 0.1,
/// stpmin 0, stpmax 1e10.
///
/// It looks for a step that meets the strong Wolfe conditions
///
///     φ(α) ≤ φ(0) + ftol·α·φ'(0)      |φ'(α)| ≤ gtol·|φ'(0)|
///
/// with safeguarded cubic and quadratic interpolation. Using the same search as scipy (rather
/// than any strong-Wolfe search) makes the iterates, and so where a fit stops at sklearn's `tol`,
/// follow sklearn's own.
///
/// Use: `start(step:value:slope:)` at α = 0, then evaluate φ and φ' at `step` and pass them to
/// `next(value:slope:)` until it says `.converged` (accept the last step evaluated), `.warning`
/// (dcsrch's "WARNING" ends: L-BFGS-B accepts the last step too) or `.error`.
struct MoreThuente {
    enum Task: Equatable {
        /// Evaluate φ and φ' at `step` and call `next`.
        case evaluate
        case converged
        case warning(String)
        case error(String)
    }

    var ftol = 1e-3
    var gtol = 0.9
    var xtol = 0.1
    var stpmin = 0.0
    var stpmax = 1e10

    /// The step to evaluate next (or the accepted one).
    private(set) var step = 0.0
    private var bracketed = false
    private var stage = 1
    private var finit = 0.0, ginit = 0.0, gtest = 0.0
    private var width = 0.0, width1 = 0.0
    // The best step so far (x), the other end of the interval (y).
    private var stx = 0.0, fx = 0.0, gx = 0.0
    private var sty = 0.0, fy = 0.0, gy = 0.0
    private var stmin = 0.0, stmax = 0.0

    private static let xtrapl = 1.1, xtrapu = 4.0

    /// Begins a search from φ(0) = value, φ'(0) = slope, with a first trial step.
    mutating func start(step initial: Double, value f: Double, slope g: Double) -> Task {
        step = initial
        if initial < stpmin { return .error("STP .LT. STPMIN") }
        if initial > stpmax { return .error("STP .GT. STPMAX") }
        if g >= 0 { return .error("INITIAL G .GE. ZERO") }
        bracketed = false
        stage = 1
        finit = f
        ginit = g
        gtest = ftol * ginit
        width = stpmax - stpmin
        width1 = width / 0.5
        (stx, fx, gx) = (0, finit, ginit)
        (sty, fy, gy) = (0, finit, ginit)
        stmin = 0
        stmax = initial + Self.xtrapu * initial
        return .evaluate
    }

    /// φ and φ' at `step`: the verdict, and when `.evaluate` a new `step`.
    mutating func next(value f: Double, slope g: Double) -> Task {
        let ftest = finit + step * gtest
        if stage == 1 && f <= ftest && g >= 0 { stage = 2 }

        var warning: String?
        if bracketed && (step <= stmin || step >= stmax) { warning = "ROUNDING ERRORS PREVENT PROGRESS" }
        if bracketed && stmax - stmin <= xtol * stmax { warning = "XTOL TEST SATISFIED" }
        if step == stpmax && f <= ftest && g <= gtest { warning = "STP = STPMAX" }
        if step == stpmin && (f > ftest || g >= gtest) { warning = "STP = STPMIN" }
        if f <= ftest && abs(g) <= gtol * -ginit { return .converged }
        if let warning { return .warning(warning) }

        var stp = step
        if stage == 1 && f <= fx && f > ftest {
            // A lower value without sufficient decrease: step on the modified function
            // ψ(α) = φ(α) − φ(0) − α·gtest, whose minimizer meets the condition.
            var fxm = fx - stx * gtest, fym = fy - sty * gtest
            var gxm = gx - gtest, gym = gy - gtest
            Self.dcstep(stx: &stx, fx: &fxm, dx: &gxm, sty: &sty, fy: &fym, dy: &gym, stp: &stp,
                        fp: f - stp * gtest, dp: g - gtest, bracketed: &bracketed, stpmin: stmin, stpmax: stmax)
            fx = fxm + stx * gtest
            fy = fym + sty * gtest
            gx = gxm + gtest
            gy = gym + gtest
        } else {
            Self.dcstep(stx: &stx, fx: &fx, dx: &gx, sty: &sty, fy: &fy, dy: &gy, stp: &stp,
                        fp: f, dp: g, bracketed: &bracketed, stpmin: stmin, stpmax: stmax)
        }

        // Bisect when the interval does not shrink fast enough.
        if bracketed {
            if abs(sty - stx) >= 0.66 * width1 { stp = stx + 0.5 * (sty - stx) }
            width1 = width
            width = abs(sty - stx)
        }
        if bracketed {
            stmin = min(stx, sty)
            stmax = max(stx, sty)
        } else {
            stmin = stp + Self.xtrapl * (stp - stx)
            stmax = stp + Self.xtrapu * (stp - stx)
        }
        stp = min(max(stp, stpmin), stpmax)
        // No further progress possible: fall back to the best step found.
        if (bracketed && (stp <= stmin || stp >= stmax)) || (bracketed && stmax - stmin <= xtol * stmax) { stp = stx }
        step = stp
        return .evaluate
    }

    /// One safeguarded step of the interval update (MINPACK-2 `dcstep`): from the best step
    /// (stx, fx, dx), the other end (sty, fy, dy) and the trial (stp, fp, dp), the new interval
    /// and the next trial step in `stp`.
    static func dcstep(stx: inout Double, fx: inout Double, dx: inout Double,
                       sty: inout Double, fy: inout Double, dy: inout Double,
                       stp: inout Double, fp: Double, dp: Double, bracketed: inout Bool, stpmin: Double, stpmax: Double) {
        let sgnd = sign(dp) * sign(dx)
        let stpf: Double
        if fp > fx {
            // 1: a higher value; the minimum is bracketed. The cubic step if it is closer to
            // stx than the quadratic one, else their mean.
            let theta = 3 * (fx - fp) / (stp - stx) + dx + dp
            let s = max(abs(theta), abs(dx), abs(dp))
            var gamma = s * ((theta / s) * (theta / s) - (dx / s) * (dp / s)).squareRoot()
            if stp < stx { gamma = -gamma }
            let p = (gamma - dx) + theta, q = ((gamma - dx) + gamma) + dp
            let stpc = stx + p / q * (stp - stx)
            let stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2) * (stp - stx)
            stpf = abs(stpc - stx) <= abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2
            bracketed = true
        } else if sgnd < 0 {
            // 2: lower value, slopes of opposite sign; bracketed. The farther of cubic and secant.
            let theta = 3 * (fx - fp) / (stp - stx) + dx + dp
            let s = max(abs(theta), abs(dx), abs(dp))
            var gamma = s * ((theta / s) * (theta / s) - (dx / s) * (dp / s)).squareRoot()
            if stp > stx { gamma = -gamma }
            let p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dx
            let stpc = stp + p / q * (stx - stp)
            let stpq = stp + (dp / (dp - dx)) * (stx - stp)
            stpf = abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq
            bracketed = true
        } else if abs(dp) < abs(dx) {
            // 3: lower value, same sign, the slope shrinks. The cubic step only if the cubic
            // tends to infinity in the step's direction or its minimum lies beyond stp.
            let theta = 3 * (fx - fp) / (stp - stx) + dx + dp
            let s = max(abs(theta), abs(dx), abs(dp))
            var gamma = s * max(0, (theta / s) * (theta / s) - (dx / s) * (dp / s)).squareRoot()
            if stp > stx { gamma = -gamma }
            let p = (gamma - dp) + theta, q = (gamma + (dx - dp)) + gamma
            let r = p / q
            let stpc = r < 0 && gamma != 0 ? stp + r * (stx - stp) : (stp > stx ? stpmax : stpmin)
            let stpq = stp + (dp / (dp - dx)) * (stx - stp)
            if bracketed {
                var f = abs(stpc - stp) < abs(stpq - stp) ? stpc : stpq
                f = stp > stx ? min(stp + 0.66 * (sty - stp), f) : max(stp + 0.66 * (sty - stp), f)
                stpf = f
            } else {
                stpf = min(max(abs(stpc - stp) > abs(stpq - stp) ? stpc : stpq, stpmin), stpmax)
            }
        } else {
            // 4: lower value, same sign, the slope does not shrink.
            if bracketed {
                let theta = 3 * (fp - fy) / (sty - stp) + dy + dp
                let s = max(abs(theta), abs(dy), abs(dp))
                var gamma = s * ((theta / s) * (theta / s) - (dy / s) * (dp / s)).squareRoot()
                if stp > sty { gamma = -gamma }
                let p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dy
                stpf = stp + p / q * (sty - stp)
            } else {
                stpf = stp > stx ? stpmax : stpmin
            }
        }
        // The interval that holds a minimizer.
        if fp > fx {
            (sty, fy, dy) = (stp, fp, dp)
        } else {
            if sgnd < 0 { (sty, fy, dy) = (stx, fx, dx) }
            (stx, fx, dx) = (stp, fp, dp)
        }
        stp = stpf
    }

    /// numpy's sign: −1, 0 or 1.
    private static func sign(_ x: Double) -> Double { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}
