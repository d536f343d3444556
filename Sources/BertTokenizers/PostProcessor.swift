import Foundation

/// The post-processor stage: tokenizer.json `"post_processor"`, which adds the special tokens
/// and sets token type ids. All supported kinds reduce to one template.
enum PostProcessorType: String {
    /// `[CLS] A [SEP]`, `[CLS] A [SEP] B [SEP]`, type ids 0 then 1.
    case bert = "BertProcessing"
    /// `<s> A </s>`, `<s> A </s></s> B </s>`, type ids all 0, offsets trimmed of spaces.
    case roberta = "RobertaProcessing"
    /// HF's general template (what converted BERT tokenizers such as MiniLM's use).
    case template = "TemplateProcessing"

    static func make(config: Any?) throws -> PostProcessor {
        guard let config = config as? [String: Any] else {
            if config == nil || config is NSNull { return .plain }
            throw TokenizerError.invalidFile("tokenizer.json", reason: "\"post_processor\" is not an object")
        }
        let typeName = config["type"] as? String ?? "<missing>"
        guard let type = PostProcessorType(rawValue: typeName) else {
            throw TokenizerError.unsupported("post_processor type \"\(typeName)\" (supported: BertProcessing, RobertaProcessing, TemplateProcessing)")
        }
        func special(_ key: String) throws -> Int32 {
            guard let pair = config[key] as? [Any], pair.count == 2, let id = jsonInt(pair[1]) else {
                throw TokenizerError.invalidFile("tokenizer.json", reason: "\(typeName) needs \"\(key)\": [token, id]")
            }
            return Int32(id)
        }
        switch type {
        case .bert:
            return .bert(cls: try special("cls"), sep: try special("sep"))
        case .roberta:
            return .roberta(cls: try special("cls"), sep: try special("sep"),
                            trimOffsets: config["trim_offsets"] as? Bool ?? true,
                            addPrefixSpace: config["add_prefix_space"] as? Bool ?? true)
        case .template:
            return try template(config)
        }
    }

    private static func template(_ config: [String: Any]) throws -> PostProcessor {
        var specials: [String: [Int32]] = [:]
        for (name, value) in config["special_tokens"] as? [String: Any] ?? [:] {
            guard let entry = value as? [String: Any], let ids = entry["ids"] as? [Any] else { continue }
            specials[name] = ids.compactMap { jsonInt($0).map(Int32.init) }
        }
        func pieces(_ key: String) throws -> [PostProcessor.Piece] {
            guard let list = config[key] as? [[String: Any]] else {
                throw TokenizerError.invalidFile("tokenizer.json", reason: "TemplateProcessing needs a \"\(key)\" list")
            }
            return try list.map { item in
                if let sequence = item["Sequence"] as? [String: Any] {
                    let typeId = Int32(jsonInt(sequence["type_id"]) ?? 0)
                    return (sequence["id"] as? String) == "B" ? .sequenceB(typeId: typeId) : .sequenceA(typeId: typeId)
                }
                if let token = item["SpecialToken"] as? [String: Any], let name = token["id"] as? String,
                   let ids = specials[name] {
                    return .special(ids: ids, typeId: Int32(jsonInt(token["type_id"]) ?? 0))
                }
                throw TokenizerError.invalidFile("tokenizer.json", reason: "TemplateProcessing piece \(item) is not understood")
            }
        }
        return PostProcessor(single: try pieces("single"), pair: try pieces("pair"))
    }
}

/// Special tokens and type ids around one or two sequences.
struct PostProcessor: Sendable {
    enum Piece: Sendable {
        case special(ids: [Int32], typeId: Int32)
        case sequenceA(typeId: Int32)
        case sequenceB(typeId: Int32)
    }

    let single: [Piece]
    let pair: [Piece]
    /// RoBERTa trims spaces from byte-level offsets (applied while encoding, where the token
    /// bytes are at hand).
    var trimOffsets = false
    var addPrefixSpace = false

    /// No post-processor: the sequences as they are, type ids 0 and 1.
    static let plain = PostProcessor(single: [.sequenceA(typeId: 0)], pair: [.sequenceA(typeId: 0), .sequenceB(typeId: 1)])

    static func bert(cls: Int32, sep: Int32) -> PostProcessor {
        PostProcessor(
            single: [.special(ids: [cls], typeId: 0), .sequenceA(typeId: 0), .special(ids: [sep], typeId: 0)],
            pair: [.special(ids: [cls], typeId: 0), .sequenceA(typeId: 0), .special(ids: [sep], typeId: 0),
                   .sequenceB(typeId: 1), .special(ids: [sep], typeId: 1)])
    }

    static func roberta(cls: Int32, sep: Int32, trimOffsets: Bool, addPrefixSpace: Bool) -> PostProcessor {
        var processor = PostProcessor(
            single: [.special(ids: [cls], typeId: 0), .sequenceA(typeId: 0), .special(ids: [sep], typeId: 0)],
            pair: [.special(ids: [cls], typeId: 0), .sequenceA(typeId: 0), .special(ids: [sep], typeId: 0),
                   .special(ids: [sep], typeId: 0), .sequenceB(typeId: 0), .special(ids: [sep], typeId: 0)])
        processor.trimOffsets = trimOffsets
        processor.addPrefixSpace = addPrefixSpace
        return processor
    }

    /// How many special tokens the template adds (what truncation must leave room for).
    func addedTokenCount(isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) { count, piece in
            if case .special(let ids, _) = piece { return count + ids.count }
            return count
        }
    }

    func apply(_ a: TokenSink, _ b: TokenSink?, truncated: Int, vocabulary: TokenStrings) -> Encoding {
        let total = a.ids.count + (b?.ids.count ?? 0) + addedTokenCount(isPair: b != nil)
        var ids: [Int32] = [], typeIds: [Int32] = [], offsets: [Range<Int>] = [], sequences: [Int8] = []
        ids.reserveCapacity(total); typeIds.reserveCapacity(total); offsets.reserveCapacity(total)
        sequences.reserveCapacity(total)
        for piece in b == nil ? single : pair {
            switch piece {
            case .special(let specialIds, let typeId):
                ids.append(contentsOf: specialIds)
                for _ in specialIds { typeIds.append(typeId); offsets.append(0..<0); sequences.append(-1) }
            case .sequenceA(let typeId):
                ids.append(contentsOf: a.ids)
                typeIds.append(contentsOf: repeatElement(typeId, count: a.ids.count))
                offsets.append(contentsOf: a.offsets)
                sequences.append(contentsOf: repeatElement(0, count: a.ids.count))
            case .sequenceB(let typeId):
                guard let b else { continue }
                ids.append(contentsOf: b.ids)
                typeIds.append(contentsOf: repeatElement(typeId, count: b.ids.count))
                offsets.append(contentsOf: b.offsets)
                sequences.append(contentsOf: repeatElement(1, count: b.ids.count))
            }
        }
        return Encoding(ids: ids, typeIds: typeIds, offsets: offsets, truncatedTokenCount: truncated,
                        sequenceIndices: sequences, vocabulary: vocabulary)
    }
}

/// An integer from JSONSerialization output (Int, or NSNumber on some platforms).
func jsonInt(_ value: Any?) -> Int? {
    if let int = value as? Int { return int }
    if let number = value as? NSNumber { return number.intValue }
    return nil
}
