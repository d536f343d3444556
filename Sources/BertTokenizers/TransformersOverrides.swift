/// What transformers' fast-tokenizer classes change in a loaded tokenizer.json: their
/// `__init__` re-applies tokenizer_config.json's options to the backend when they differ.
/// (Only with a tokenizer_config.json that names the class; otherwise tokenizer.json rules.)
enum TransformersOverrides {
    private static func tokenizerClass(_ config: [String: Any]?) -> String? {
        (config?["tokenizer_class"] as? String).map { $0.hasSuffix("Fast") ? String($0.dropLast(4)) : $0 }
    }

    /// BertTokenizerFast: `do_lower_case` (default true), `strip_accents` (default None) and
    /// `tokenize_chinese_chars` (default true) replace the BertNormalizer's if any differs.
    static func bertNormalizer(_ normalizer: BertNormalizer, state: Any?, tokenizerConfig config: [String: Any]?) -> BertNormalizer {
        guard let config, ["BertTokenizer", "DistilBertTokenizer"].contains(tokenizerClass(config) ?? ""),
              let state = state as? [String: Any], state["type"] as? String == NormalizerType.bert.rawValue else {
            return normalizer
        }
        let lowercase = config["do_lower_case"] as? Bool ?? true
        let stripAccents = config["strip_accents"] as? Bool  // nil: None
        let chinese = config["tokenize_chinese_chars"] as? Bool ?? true
        // Python's `state.get(key, default)`: a present null is None, an absent key the default.
        let stateStrip: Bool? = state.keys.contains("strip_accents") ? state["strip_accents"] as? Bool : stripAccents
        let differs = (state["lowercase"] as? Bool ?? lowercase) != lowercase || stateStrip != stripAccents
            || (state["handle_chinese_chars"] as? Bool ?? chinese) != chinese
        guard differs else { return normalizer }
        return BertNormalizer(cleanText: normalizer.cleanText, handleChineseChars: chinese,
                              stripAccents: stripAccents ?? lowercase, lowercase: lowercase)
    }

    /// RobertaTokenizerFast: `add_prefix_space` (default false) and `trim_offsets` (default
    /// true) replace the ByteLevel pre-tokenizer's and the RobertaProcessing's.
    static func roberta(addPrefixSpace: inout Bool, postProcessor: inout PostProcessor, postProcessorState: Any?,
                        tokenizerConfig config: [String: Any]?) {
        guard let config, tokenizerClass(config) == "RobertaTokenizer" else { return }
        let configAddPrefixSpace = config["add_prefix_space"] as? Bool ?? false
        addPrefixSpace = configAddPrefixSpace
        if let state = postProcessorState as? [String: Any], state["type"] as? String == PostProcessorType.roberta.rawValue {
            postProcessor.addPrefixSpace = configAddPrefixSpace
            postProcessor.trimOffsets = config["trim_offsets"] as? Bool ?? true
        }
    }
}
