import BertCore
@testable import BertTraining
import Foundation
import XCTest

/// Long documents in training against PyTorch (Fixtures/tasks/windows_*, from
/// generate_tasks.py): tiny-bert's 3 sequences are the windows of 2 documents, the loss is
/// cross-entropy on each document's aggregated logits (mean, max, weighted mean), and the
/// gradient of every parameter must match — the gradient flows through every window.
final class WindowTrainingParityTests: XCTestCase {
    private let groups = WindowGroups(counts: [2, 1], tokens: [11, 7, 4])

    func testMean() throws { try check(.mean) }
    func testMax() throws { try check(.max) }
    func testWeighted() throws { try check(.weighted) }

    /// The three aggregations give different gradients (the fixture tells them apart).
    func testAggregationsDiffer() throws {
        let mean = try Fixtures.safetensors("tasks/windows_mean.safetensors")
        let max = try Fixtures.safetensors("tasks/windows_max.safetensors")
        XCTAssertGreaterThan(maxAbsDifference(try mean.floats("grad.classifier.weight"), try max.floats("grad.classifier.weight")), 1e-4)
    }

    func testMismatchedGroupsAreRefused() throws {
        let ref = try Fixtures.safetensors("tasks/windows_mean.safetensors")
        let trainer = try Trainer(model: try ModelLoader.load(directory: Fixtures.url("tiny-bert")))
        XCTAssertThrowsError(try trainer.forwardBackward(try batch(ref), targets: .classes([2, 1, 0]), windows: groups),
                             "three targets for two documents")
        XCTAssertThrowsError(try trainer.forwardBackward(try batch(ref), targets: .classes([2]),
                                                         windows: WindowGroups(counts: [2], tokens: [11, 7])),
                             "groups covering two of three sequences")
    }

    private func batch(_ ref: SafetensorsFile) throws -> TokenBatch {
        unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                      typeIds: try ref.integers("input.token_type_ids"), rows: 3)
    }

    private func check(_ aggregation: WindowAggregation) throws {
        let name = "windows_\(aggregation.rawValue)"
        let ref = try Fixtures.safetensors("tasks/\(name).safetensors")
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let trainer = try Trainer(model: model)
        print("\(name):")
        let out = try trainer.forwardBackward(try batch(ref), targets: .classes(try ref.integers("input.labels")),
                                              windows: groups, aggregation: aggregation)
        XCTAssertEqual(out.logits.count, 2, "one row of logits per document")
        expectClose("loss", [out.loss], try ref.floats("output.loss"), tolerance: 1e-6)
        expectClose("document logits", out.logits.flatMap { $0 }, try ref.floats("output.document_logits"), tolerance: 1e-6)
        for spec in model.tree.layout.specs {
            expectClose("grad.\(spec.name)", trainer.gradients.values(spec.ref), try ref.floats("grad.\(spec.name)"), tolerance: 1e-6)
        }
    }
}
