import COpenBLAS
import CSystemd
import CZeroMQ
import XCTest

/// The system-library shims resolve through pkg-config and link: one real call into each.
final class SystemLibraryTests: XCTestCase {
    func testOpenBLASMultiplies() {
        let a: [Float] = [1, 2, 3, 4]  // 2×2
        let b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        XCTAssertEqual(c, [19, 22, 43, 50])
    }

    func testZeroMQVersionIsAtLeast4() {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        XCTAssertGreaterThanOrEqual(major, 4)
    }

    func testSystemdNotifyWithoutSocketIsANoOp() {
        // Outside systemd NOTIFY_SOCKET is unset and sd_notify returns 0 ("not sent").
        unsetenv("NOTIFY_SOCKET")
        XCTAssertEqual(sd_notify(0, "READY=1"), 0)
    }
}
