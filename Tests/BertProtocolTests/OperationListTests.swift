import BertProtocol
import Foundation
import XCTest

/// `Op` is the one list of operations; the places that must repeat it (another language) are
/// held to it here, so they cannot drift apart unnoticed.
final class OperationListTests: XCTestCase {
    private var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The Python client retries exactly the operations the Swift client retries.
    func testPythonClientRetriesTheIdempotentOperations() throws {
        let source = try String(contentsOf: repository.appendingPathComponent("Protocol/clients/python/bertd_client.py"), encoding: .utf8)
        let line = try XCTUnwrap(source.split(separator: "\n").first { $0.hasPrefix("IDEMPOTENT_OPS = frozenset({") })
        let names = line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        XCTAssertEqual(Set(names), Set(Op.allCases.filter(\.isIdempotent).map(\.rawValue)), String(line))
    }

    /// PROTOCOL.md names every operation.
    func testProtocolDocumentNamesEveryOperation() throws {
        let text = try String(contentsOf: repository.appendingPathComponent("Protocol/PROTOCOL.md"), encoding: .utf8)
        for op in Op.allCases { XCTAssertTrue(text.contains("`\(op.rawValue)`"), "PROTOCOL.md does not mention `\(op.rawValue)`") }
    }

    func testPublicOperationsAreTheNonAdminOnes() {
        XCTAssertEqual(Op.publicOperations, [.classify, .embed, .explain, .models, .status, .ping])
        XCTAssertTrue(Op.allCases.filter(\.isAdmin).allSatisfy { !Op.publicOperations.contains($0) })
    }
}
