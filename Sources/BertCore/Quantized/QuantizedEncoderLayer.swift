/// The int8 weights of one encoder layer's four dense layers, quantized from the fp32 arena at
/// load time. LayerNorms, biases and attention stay fp32 and are read from the arena.
struct QuantizedEncoderLayer: Sendable {
    let qkv: QuantizedLinear              // (3H, H)
    let attentionOutput: QuantizedLinear  // (H, H)
    let intermediate: QuantizedLinear     // (I, H)
    let output: QuantizedLinear           // (H, I)

    init(_ layer: EncoderLayer, parameters p: ParameterArena) {
        func quantize(_ linear: Linear) -> QuantizedLinear {
            QuantizedLinear(weight: p[linear.weight], outFeatures: linear.outFeatures, inFeatures: linear.inFeatures)
        }
        qkv = quantize(layer.qkv)
        attentionOutput = quantize(layer.attentionOutput)
        intermediate = quantize(layer.intermediate)
        output = quantize(layer.output)
    }

    var linears: [QuantizedLinear] { [qkv, attentionOutput, intermediate, output] }
}
