import Foundation

/// A tokenizer.json (HF tokenizers' serialization) → `TokenizerDefinition`.
/// Supported: (BertNormalizer or none) + BertPreTokenizer + WordPiece, and
/// no normalizer + ByteLevel + BPE. Anything else is an `unsupported_tokenizer` error naming it.
/// The file's `truncation` and `padding` are ignored: `encode(maxLength:)` decides, and
/// batching pads.
enum TokenizerJSON {
    static func load(_ json: [String: Any], tokenizerConfig: [String: Any]?) throws -> TokenizerDefinition {
        guard let model = json["model"] as? [String: Any] else {
            throw TokenizerError.invalidFile("tokenizer.json", reason: "no \"model\" object")
        }
        let modelName = model["type"] as? String ?? (model["merges"] != nil ? "BPE" : "<missing>")
        guard let modelType = ModelType(rawValue: modelName) else {
            throw TokenizerError.unsupported("model type \"\(modelName)\" (supported: WordPiece, BPE)")
        }
        let normalizerConfig = json["normalizer"]
        let preTokenizer = try PreTokenizerType.make(config: json["pre_tokenizer"])
        var postProcessor = try PostProcessorType.make(config: json["post_processor"])
        let hasNormalizer = !(normalizerConfig == nil || normalizerConfig is NSNull)
        let added = try addedTokens(json["added_tokens"], hasNormalizer: hasNormalizer)
        guard let vocabObject = model["vocab"] as? [String: Any] else {
            throw TokenizerError.invalidFile("tokenizer.json", reason: "model has no \"vocab\" object")
        }
        let vocabulary = try vocabEntries(vocabObject, file: "tokenizer.json")
        let strings = TokenizerLoader.tokenStrings(vocabulary: vocabulary, added: added)
        let pipeline: TokenizerDefinition.Pipeline
        switch (modelType, preTokenizer) {
        case (.wordPiece, .bert):
            let normalizer = TransformersOverrides.bertNormalizer(
                try NormalizerType.make(config: normalizerConfig), state: normalizerConfig, tokenizerConfig: tokenizerConfig)
            let wordPiece = try WordPiece(
                vocabulary: vocabulary,
                unknownToken: model["unk_token"] as? String ?? "[UNK]",
                continuingSubwordPrefix: model["continuing_subword_prefix"] as? String ?? "##",
                maxInputCharsPerWord: jsonInt(model["max_input_chars_per_word"]) ?? 100)
            pipeline = .wordPiece(BertPreTokenizer(normalizer: normalizer), wordPiece)
        case (.bpe, .byteLevel(var addPrefixSpace)):
            TransformersOverrides.roberta(addPrefixSpace: &addPrefixSpace, postProcessor: &postProcessor,
                                          postProcessorState: json["post_processor"], tokenizerConfig: tokenizerConfig)
            if hasNormalizer {
                throw TokenizerError.unsupported("a normalizer before the ByteLevel pre_tokenizer")
            }
            try checkPlainBPE(model)
            let bpe = try BytePairEncoding(
                vocabulary: ByteStringTable(vocabulary.map { (Array($0.0.utf8), $0.1) }),
                merges: try merges(model["merges"]),
                unknownToken: model["unk_token"] as? String)
            pipeline = .byteLevelBPE(ByteLevelBPEPipeline(
                model: bpe, addPrefixSpace: addPrefixSpace, trimOffsets: postProcessor.trimOffsets,
                trimKeepsPrefixSpace: postProcessor.addPrefixSpace))
        default:
            let preTokenizerName = (json["pre_tokenizer"] as? [String: Any])?["type"] as? String ?? "<missing>"
            throw TokenizerError.unsupported("model \(modelName) with pre_tokenizer \(preTokenizerName) (supported: WordPiece with BertPreTokenizer, BPE with ByteLevel)")
        }
        let padding = json["padding"] as? [String: Any]
        guard let pad = jsonInt(padding?["pad_id"]).map(Int32.init)
                ?? TokenizerLoader.findToken(["[PAD]", "<pad>"], in: strings) else {
            throw TokenizerError.invalidFile("tokenizer.json", reason: "no pad token ([PAD] or <pad>) and no padding.pad_id")
        }
        return TokenizerDefinition(pipeline: pipeline, addedTokens: added, postProcessor: postProcessor,
                                   tokenStrings: strings, padTokenId: pad)
    }

    static func vocabEntries(_ object: [String: Any], file: String) throws -> [(String, Int32)] {
        var entries: [(String, Int32)] = []
        entries.reserveCapacity(object.count)
        for (token, value) in object {
            guard let id = jsonInt(value), id >= 0, id <= Int(Int32.max) else {
                throw TokenizerError.invalidFile(file, reason: "vocabulary entry \"\(token)\" has no valid id")
            }
            entries.append((token, Int32(id)))
        }
        return entries
    }

    /// `merges` as ["a b", …] (older files) or [["a", "b"], …] (newer ones).
    static func merges(_ value: Any?) throws -> [(String, String)] {
        guard let list = value as? [Any] else {
            throw TokenizerError.invalidFile("tokenizer.json", reason: "BPE model has no \"merges\" list")
        }
        return try list.map { item in
            if let pair = item as? [String], pair.count == 2 { return (pair[0], pair[1]) }
            if let line = item as? String, let space = line.firstIndex(of: " ") {
                return (String(line[..<space]), String(line[line.index(after: space)...]))
            }
            throw TokenizerError.invalidFile("tokenizer.json", reason: "merge \(item) is not a pair")
        }
    }

    /// BPE options this implementation does not have must be off.
    private static func checkPlainBPE(_ model: [String: Any]) throws {
        if let dropout = model["dropout"], !(dropout is NSNull) {
            throw TokenizerError.unsupported("BPE with dropout")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let text = model[key] as? String, !text.isEmpty {
                throw TokenizerError.unsupported("BPE with \(key) \"\(text)\"")
            }
        }
        for key in ["byte_fallback", "ignore_merges"] where model[key] as? Bool == true {
            throw TokenizerError.unsupported("BPE with \(key)")
        }
    }

    private static func addedTokens(_ value: Any?, hasNormalizer: Bool) throws -> [AddedToken] {
        guard let list = value as? [[String: Any]] else { return [] }
        return try list.map { entry in
            guard let content = entry["content"] as? String, let id = jsonInt(entry["id"]) else {
                throw TokenizerError.invalidFile("tokenizer.json", reason: "added token \(entry) needs content and id")
            }
            if entry["single_word"] as? Bool == true {
                throw TokenizerError.unsupported("added token \"\(content)\" with single_word")
            }
            // Tokens matched after normalization; without a normalizer that is the raw text.
            if entry["normalized"] as? Bool == true && hasNormalizer {
                throw TokenizerError.unsupported("added token \"\(content)\" with normalized: true")
            }
            return AddedToken(content: content, id: Int32(id), lstrip: entry["lstrip"] as? Bool ?? false,
                              rstrip: entry["rstrip"] as? Bool ?? false)
        }
    }
}
