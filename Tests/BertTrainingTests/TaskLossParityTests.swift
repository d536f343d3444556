import BertCore
@testable import BertTraining
import Foundation
import XCTest

/// The losses of every task against PyTorch on tiny-bert (Fixtures/tasks, from
/// Tests/FixtureGenerators/generate_tasks.py, float64): multi-label BCE with logits (with and
/// without pos_weight), sigmoid focal, regression MSE and Huber on a one-output head, and
/// label-smoothed cross-entropy — loss, logits and the gradient of every parameter.
final class TaskLossParityTests: XCTestCase {
    func testMultiLabelBinaryCrossEntropy() throws {
        try check("multi_label", loss: .binaryCrossEntropy(positiveWeights: nil), targets: { .labelSets(try $0.floats("input.labels")) })
    }

    func testMultiLabelPositiveWeights() throws {
        try check("multi_label_pos_weight", loss: .binaryCrossEntropy(positiveWeights: [2, 0.5, 3]),
                  targets: { .labelSets(try $0.floats("input.labels")) })
    }

    func testSigmoidFocal() throws {
        try check("focal_sigmoid", loss: .sigmoidFocal(alpha: 0.25, gamma: 2), targets: { .labelSets(try $0.floats("input.labels")) })
    }

    func testRegressionMeanSquaredError() throws {
        try check("regression", loss: .meanSquaredError, targets: { .values(try $0.floats("input.labels")) }, regression: true)
    }

    func testRegressionHuber() throws {
        try check("regression_huber", loss: .huber(delta: 1), targets: { .values(try $0.floats("input.labels")) }, regression: true)
    }

    /// Label smoothing moves the loss by only 3e-6 on this batch, but `classifier.weight`'s
    /// gradient by 6 % of its size: the gradients at 1e-7 are what this case checks (and the
    /// plain cross-entropy's gradient must differ from them).
    func testLabelSmoothing() throws {
        let trainer = try check("label_smoothing", loss: .labelSmoothing(epsilon: 0.1), targets: { .classes(try $0.integers("input.labels")) },
                                gradientTolerance: 1e-7)
        let ref = try Fixtures.safetensors("tasks/label_smoothing.safetensors")
        let plain = try Trainer(model: trainer.model)
        try plain.forwardBackward(try batch(ref), labels: try ref.integers("input.labels"))
        let weight = trainer.model.tree.head!.output.weight
        XCTAssertGreaterThan(maxAbsDifference(plain.gradients.values(weight), try ref.floats("grad.classifier.weight")), 1e-5,
                             "without smoothing, classifier.weight's gradient must differ from the reference")
    }

    func testTargetsOfTheWrongKindAreRefused() throws {
        let model = try ModelLoader.load(directory: Fixtures.url("tiny-bert"))
        let batch = try batch(try Fixtures.safetensors("tasks/multi_label.safetensors"))
        let bce = try Trainer(model: model, options: TrainingOptions(loss: .binaryCrossEntropy(positiveWeights: nil)))
        XCTAssertThrowsError(try bce.forwardBackward(batch, labels: [0, 1, 2]), "class ids with a multi-label loss")
        XCTAssertThrowsError(try bce.forwardBackward(batch, targets: .labelSets([1, 0, 2, 0, 0, 0, 0, 1, 0])), "a target that is not 0 or 1")
        XCTAssertThrowsError(try bce.forwardBackward(batch, targets: .labelSets([1, 0, 1])), "one row for three sequences")
        let mse = try Trainer(model: model, options: TrainingOptions(loss: .meanSquaredError))
        XCTAssertThrowsError(try mse.forwardBackward(batch, targets: .values([1, 2, 3])), "regression on a 3-output head")
        let ce = try Trainer(model: model)
        XCTAssertThrowsError(try ce.forwardBackward(batch, targets: .labelSets([1, 0, 1, 0, 0, 0, 0, 1, 0])), "label sets with cross-entropy")
    }

    private func batch(_ ref: SafetensorsFile) throws -> TokenBatch {
        unpaddedBatch(ids: try ref.integers("input.input_ids"), mask: try ref.integers("input.attention_mask"),
                      typeIds: try ref.integers("input.token_type_ids"), rows: 3)
    }

    @discardableResult
    private func check(_ name: String, loss: LossFunction, targets: (SafetensorsFile) throws -> TrainingTargets,
                       regression: Bool = false, gradientTolerance: Float = 1e-6) throws -> Trainer {
        let ref = try Fixtures.safetensors("tasks/\(name).safetensors")
        let model = try ModelLoader.load(directory: regression ? try regressionModel(ref) : Fixtures.url("tiny-bert"))
        let trainer = try Trainer(model: model, options: TrainingOptions(loss: loss))
        print("\(name):")
        let out = try trainer.forwardBackward(try batch(ref), targets: try targets(ref))
        expectClose("loss", [out.loss], try ref.floats("output.loss"), tolerance: 1e-6)
        expectClose("logits", out.logits.flatMap { $0 }, try ref.floats("output.logits"), tolerance: 1e-6)
        let specs = model.tree.layout.specs
        let refGrads = Set(ref.tensors.keys.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) })
        XCTAssertEqual(refGrads, Set(specs.map(\.name)), "\(name): parameter names differ from the reference's")
        for spec in specs where refGrads.contains(spec.name) {
            expectClose("grad.\(spec.name)", trainer.gradients.values(spec.ref), try ref.floats("grad.\(spec.name)"), tolerance: gradientTolerance)
        }
        return trainer
    }

    /// tiny-bert with a one-output regression head: the case's `init.classifier.*` in place of the
    /// three-label classifier, `problem_type` regression.
    private func regressionModel(_ ref: SafetensorsFile) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-regression-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("tiny-bert/config.json"))) as! [String: Any]
        config["id2label"] = ["0": "LABEL_0"]
        config["label2id"] = ["LABEL_0": 0]
        config["problem_type"] = "regression"
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        let weights = try SafetensorsFile(path: Fixtures.url("tiny-bert/model.safetensors").path)
        var writer = SafetensorsWriter()
        for (name, info) in weights.tensors where !name.hasPrefix("classifier.") {
            writer.add(name, shape: info.shape, values: try weights.floats(name))
        }
        writer.add("classifier.weight", shape: [1, 32], values: try ref.floats("init.classifier.weight"))
        writer.add("classifier.bias", shape: [1], values: try ref.floats("init.classifier.bias"))
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }
}
