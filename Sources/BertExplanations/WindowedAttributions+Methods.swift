import BertProtocol
import BertTraining

extension WindowedAttributions {
    /// A text of more than one window is explained with integrated gradients of a head's
    /// logits: attention maps belong to one sequence, and a zero-shot cosine of the windows'
    /// aggregated embedding is not a sum of the windows' cosines.
    public static func checkExplainable(windows: Int, method: ExplanationMethod, zeroShot: Bool) throws {
        guard windows > 1 else { return }
        guard method == .integratedGradients else {
            throw ExplanationError.invalid("attention maps are per sequence, and this model reads this text in \(windows) windows: explain it with integrated_gradients")
        }
        guard !zeroShot else {
            throw ExplanationError.invalid("a zero-shot explanation covers one sequence, and this model reads this text in \(windows) windows: explain a shorter text, or with the model's own labels")
        }
    }
}
