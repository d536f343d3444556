import BertCore

// Where the adapters plug into the layer's forward and backward: each call is a no-op unless
// layer l has an adapter on `target`.

extension Trainer {
    /// The adapter of layer l on `target` and its index in the layer's adapters.
    private func adapter(_ l: Int, _ target: LoRATarget) -> (Int, LoRAAdapter)? {
        guard let lora, let n = lora.adapters[l].firstIndex(where: { $0.target == target }) else { return nil }
        return (n, lora.adapters[l][n])
    }

    /// The first column of `target` in its projection's output: query, key and value are the
    /// three column blocks of the fused QKV projection.
    func loraColumn(_ target: LoRATarget) -> Int {
        let h = model.config.hiddenSize
        switch target {
        case .key: return h
        case .value: return 2 * h
        default: return 0
        }
    }

    /// output (T, out; stride ldOutput) += scale · B A dropout(input).
    func loraForward(_ l: Int, _ target: LoRATarget, input: UnsafePointer<Float>, ldInput: Int,
                     output: UnsafeMutablePointer<Float>, ldOutput: Int, tokens t: Int, pass: UInt64) {
        guard let lora, let (n, adapter) = adapter(l, target) else { return }
        let a = cache.layers[l]
        let mask = drawMask(a.loraMask[n], count: t * adapter.inFeatures, p: lora.config.dropout, pass: pass,
                            site: DropoutSite.lora(layer: l, target: n))
        BertTraining.loraForward(y: output, ldy: ldOutput, u: a.loraU[n].pointer, xDropped: mask == nil ? nil : a.loraInput[n].pointer,
                    x: input, ldx: ldInput, mask: mask, a: lora.parameters[adapter.a], b: lora.parameters[adapter.b],
                    rows: t, inF: adapter.inFeatures, outF: adapter.outFeatures, rank: adapter.rank,
                    scale: lora.config.scale, pool: pool)
    }

    /// Adds the adapter's gradients (and its path's share of dInput, when given).
    func loraBackward(_ l: Int, _ target: LoRATarget, dOutput: UnsafePointer<Float>, ldOutput: Int,
                      input: UnsafePointer<Float>, ldInput: Int, dInput: UnsafeMutablePointer<Float>?, tokens t: Int) {
        guard let lora, let (n, adapter) = adapter(l, target) else { return }
        let a = cache.layers[l]
        let dropout = lora.config.dropout > 0
        BertTraining.loraBackward(dX: dInput, lddx: ldInput, dA: lora.gradients[adapter.a], dB: lora.gradients[adapter.b],
                     dY: dOutput, ldd: ldOutput, u: a.loraU[n].pointer, dU: cache.gradLoRAU.pointer,
                     dXDropped: dropout ? cache.gradLoRAInput.pointer : nil, xDropped: dropout ? a.loraInput[n].pointer : nil,
                     x: input, ldx: ldInput, mask: dropout ? a.loraMask[n].pointer : nil,
                     a: lora.parameters[adapter.a], b: lora.parameters[adapter.b], rows: t, inF: adapter.inFeatures,
                     outF: adapter.outFeatures, rank: adapter.rank, scale: lora.config.scale, pool: pool)
    }
}
