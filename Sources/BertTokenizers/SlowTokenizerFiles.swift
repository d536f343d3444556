import Foundation

/// A model directory without tokenizer.json: the slow tokenizer's files, configured the way
/// transformers' `convert_slow_tokenizer` (BertConverter, RobertaConverter) builds the fast one.
enum SlowTokenizerFiles {
    enum Family { case bert, roberta }

    static func load(_ files: DirectoryFiles, tokenizerConfig: [String: Any]?) throws -> TokenizerDefinition {
        let config = tokenizerConfig ?? [:]
        switch try family(files, tokenizerConfig: tokenizerConfig) {
        case .bert: return try loadBert(files, config: config)
        case .roberta: return try loadRoberta(files, config: config)
        }
    }

    /// The tokenizer class: tokenizer_config.json's `tokenizer_class`, else what transformers'
    /// AutoTokenizer picks for config.json's `model_type`.
    private static func family(_ files: DirectoryFiles, tokenizerConfig: [String: Any]?) throws -> Family {
        if let name = tokenizerConfig?["tokenizer_class"] as? String {
            switch name {
            case "BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer", "DistilBertTokenizerFast",
                 "ElectraTokenizer", "ElectraTokenizerFast": return .bert
            case "RobertaTokenizer", "RobertaTokenizerFast": return .roberta
            default: throw TokenizerError.unsupported("tokenizer_class \"\(name)\" in tokenizer_config.json (supported: BertTokenizer, DistilBertTokenizer, ElectraTokenizer, RobertaTokenizer)")
            }
        }
        if files.exists("config.json"), let modelType = try files.jsonObject("config.json")["model_type"] as? String {
            switch modelType {
            case "bert", "distilbert", "electra": return .bert
            case "roberta": return .roberta
            default: throw TokenizerError.unsupported("model_type \"\(modelType)\" without tokenizer.json or tokenizer_class")
            }
        }
        if files.exists("vocab.txt") || files.exists("vocab.json") {
            throw TokenizerError.missingFile("\(files.directory.path) has no tokenizer.json, and neither tokenizer_config.json (tokenizer_class) nor config.json (model_type) says which tokenizer its vocabulary is for")
        }
        throw TokenizerError.missingFile("\(files.directory.path) has none of tokenizer.json, vocab.txt, vocab.json + merges.txt")
    }

    private static func loadBert(_ files: DirectoryFiles, config: [String: Any]) throws -> TokenizerDefinition {
        // load_vocab: one token per line, the id is the line number (a repeated token keeps
        // its last line).
        var lines = try files.text("vocab.txt").split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        let vocabulary = lines.enumerated().map { index, line -> (String, Int32) in
            (String(line.hasSuffix("\r") ? line.dropLast() : line), Int32(index))
        }
        let lowercase = config["do_lower_case"] as? Bool ?? true
        let normalizer = BertNormalizer(
            cleanText: true,
            handleChineseChars: config["tokenize_chinese_chars"] as? Bool ?? true,
            stripAccents: config["strip_accents"] as? Bool ?? lowercase,
            lowercase: lowercase)
        let names = specialNames(config, defaults: [("unk_token", "[UNK]"), ("sep_token", "[SEP]"), ("pad_token", "[PAD]"),
                                                    ("cls_token", "[CLS]"), ("mask_token", "[MASK]")])
        let table = Dictionary(vocabulary, uniquingKeysWith: { _, last in last })
        let added = addedTokens(names, config: config, vocabulary: table, lstrip: [])
        let ids = Dictionary(added.map { ($0.content, $0.id) }, uniquingKeysWith: { first, _ in first })
        let wordPiece = try WordPiece(vocabulary: vocabulary, unknownToken: names["unk_token"]!,
                                      continuingSubwordPrefix: "##", maxInputCharsPerWord: 100)
        return TokenizerDefinition(
            pipeline: .wordPiece(BertPreTokenizer(normalizer: normalizer), wordPiece),
            addedTokens: added,
            postProcessor: .bert(cls: ids[names["cls_token"]!]!, sep: ids[names["sep_token"]!]!),
            tokenStrings: TokenizerLoader.tokenStrings(vocabulary: vocabulary, added: added),
            padTokenId: ids[names["pad_token"]!]!)
    }

    private static func loadRoberta(_ files: DirectoryFiles, config: [String: Any]) throws -> TokenizerDefinition {
        let vocabulary = try TokenizerJSON.vocabEntries(try files.jsonObject("vocab.json"), file: "vocab.json")
        var merges: [(String, String)] = []
        for line in try files.text("merges.txt").split(separator: "\n") {
            if line.hasPrefix("#version") || line.allSatisfy({ $0 == " " || $0 == "\r" }) { continue }
            let parts = line.split(separator: " ")
            guard parts.count == 2 else {
                throw TokenizerError.invalidFile("merges.txt", reason: "line \"\(line)\" is not two tokens")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let addPrefixSpace = config["add_prefix_space"] as? Bool ?? false
        let trimOffsets = config["trim_offsets"] as? Bool ?? true
        let names = specialNames(config, defaults: [("bos_token", "<s>"), ("eos_token", "</s>"), ("sep_token", "</s>"),
                                                    ("cls_token", "<s>"), ("unk_token", "<unk>"), ("pad_token", "<pad>"),
                                                    ("mask_token", "<mask>")])
        let table = Dictionary(vocabulary, uniquingKeysWith: { _, last in last })
        // RobertaTokenizer makes its mask token AddedToken(lstrip=True).
        let added = addedTokens(names, config: config, vocabulary: table, lstrip: [names["mask_token"]!])
        let ids = Dictionary(added.map { ($0.content, $0.id) }, uniquingKeysWith: { first, _ in first })
        // RobertaConverter builds the BPE model without an unknown token.
        let bpe = try BytePairEncoding(vocabulary: ByteStringTable(vocabulary.map { (Array($0.0.utf8), $0.1) }),
                                       merges: merges, unknownToken: nil)
        return TokenizerDefinition(
            pipeline: .byteLevelBPE(ByteLevelBPEPipeline(model: bpe, addPrefixSpace: addPrefixSpace,
                                                         trimOffsets: trimOffsets, trimKeepsPrefixSpace: addPrefixSpace)),
            addedTokens: added,
            postProcessor: .roberta(cls: ids[names["cls_token"]!]!, sep: ids[names["sep_token"]!]!,
                                    trimOffsets: trimOffsets, addPrefixSpace: addPrefixSpace),
            tokenStrings: TokenizerLoader.tokenStrings(vocabulary: vocabulary, added: added),
            padTokenId: ids[names["pad_token"]!]!)
    }

    /// The special tokens' names: tokenizer_config.json's values, else the class defaults.
    private static func specialNames(_ config: [String: Any], defaults: [(String, String)]) -> [String: String] {
        var names: [String: String] = [:]
        for (key, fallback) in defaults { names[key] = TokenizerLoader.specialTokenName(config[key]) ?? fallback }
        return names
    }

    /// The special tokens (then additional_special_tokens) as added tokens, in transformers'
    /// attribute order: their vocabulary id or, as transformers does for a token missing from
    /// the vocabulary, the next free id.
    private static func addedTokens(_ names: [String: String], config: [String: Any], vocabulary: [String: Int32],
                                    lstrip: Set<String>) -> [AddedToken] {
        let order = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]
        let additional = (config["additional_special_tokens"] as? [Any] ?? []).compactMap(TokenizerLoader.specialTokenName)
        var nextId = (vocabulary.values.max() ?? -1) + 1
        var seen: Set<String> = []
        var tokens: [AddedToken] = []
        for name in order.compactMap({ names[$0] }) + additional where !seen.contains(name) {
            seen.insert(name)
            let id: Int32
            if let known = vocabulary[name] { id = known } else { id = nextId; nextId += 1 }
            tokens.append(AddedToken(content: name, id: id, lstrip: lstrip.contains(name), rstrip: false))
        }
        return tokens
    }
}
