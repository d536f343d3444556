@testable import BertCore
import Foundation
import XCTest

/// The vectorised exp/erf/tanh against libm over the ranges the kernels see.
final class FastMathTests: XCTestCase {
    func testExpRelativeError() {
        var worst: Double = 0
        for i in 0...20000 {
            let x = -87 + Float(i) * 0.00875  // [-87, 88]
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(fastExp(x)) - exact) / exact)
        }
        XCTAssertLessThan(worst, 5e-7, "exp relative error \(worst)")
        XCTAssertEqual(fastExp(-200), 0, accuracy: 1e-37)  // clamped, no NaN
    }

    func testErfAbsoluteError() {
        var worst: Float = 0
        for i in 0...20000 {
            let x = -6 + Float(i) * 0.0006
            worst = max(worst, abs(fastErf(x) - Float(Foundation.erf(Double(x)))))
        }
        XCTAssertLessThan(worst, 5e-7, "erf absolute error \(worst)")
    }

    func testTanhAbsoluteError() {
        var worst: Float = 0
        for i in 0...20000 {
            let x = -10 + Float(i) * 0.001
            worst = max(worst, abs(fastTanh(x) - Float(Foundation.tanh(Double(x)))))
        }
        XCTAssertLessThan(worst, 5e-7, "tanh absolute error \(worst)")
    }
}
