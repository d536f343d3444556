import BertCore
import COpenBLAS

extension LoRAAdapters {
    /// Folds the adapters into the base weights, W ← W + (alpha/r)·B·A for every adapted
    /// projection (what PEFT's merge_and_unload does), so the model serves and saves as a plain
    /// checkpoint with no adapter code. Changes `model.parameters` in place: merge once, at the end.
    public func merge(into model: TransformerModel) throws {
        let family = model.family
        for adapter in adapters.joined() {
            let name = family.layerModule(adapter.layer, adapter.target.modulePath(family: family)) + ".weight"
            guard let spec = model.tree.layout.spec(named: name),
                  spec.ref.shape == [adapter.outFeatures, adapter.inFeatures]
            else { throw BertError(.weightMismatch, "cannot merge LoRA into \(name): no such weight of shape [\(adapter.outFeatures), \(adapter.inFeatures)]") }
            // W (out, in) += scale · B (out, r) · A (r, in)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(adapter.outFeatures), Int32(adapter.inFeatures), Int32(adapter.rank),
                        config.scale, parameters[adapter.b], Int32(adapter.rank), parameters[adapter.a], Int32(adapter.inFeatures),
                        1, model.parameters[spec.ref], Int32(adapter.inFeatures))
        }
    }
}
