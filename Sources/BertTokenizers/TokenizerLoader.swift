import Foundation

/// The model stage: tokenizer.json `"model"`.
enum ModelType: String {
    case wordPiece = "WordPiece"
    case bpe = "BPE"
}

/// Everything a `Tokenizer` is made of, read from a Hugging Face model directory.
struct TokenizerDefinition {
    enum Pipeline {
        case wordPiece(BertPreTokenizer, WordPiece)
        case byteLevelBPE(ByteLevelBPEPipeline)
    }

    var pipeline: Pipeline
    var addedTokens: [AddedToken]
    var postProcessor: PostProcessor
    /// id → token, model vocabulary and added tokens.
    var tokenStrings: [String?]
    var padTokenId: Int32
}

/// Reads tokenizer.json when present (what HF's fast tokenizers use), else the files of the
/// slow tokenizer (vocab.txt + tokenizer_config.json, or vocab.json + merges.txt), configured
/// the way transformers converts them to a fast tokenizer.
enum TokenizerLoader {
    static func load(directory: URL) throws -> TokenizerDefinition {
        let files = DirectoryFiles(directory: directory)
        let tokenizerConfig = try files.jsonObjectIfPresent("tokenizer_config.json")
        var definition: TokenizerDefinition
        if files.exists("tokenizer.json") {
            definition = try TokenizerJSON.load(try files.jsonObject("tokenizer.json"), tokenizerConfig: tokenizerConfig)
        } else {
            definition = try SlowTokenizerFiles.load(files, tokenizerConfig: tokenizerConfig)
        }
        // transformers takes the pad token from tokenizer_config.json (else the special tokens map).
        if let name = tokenizerConfig.flatMap({ specialTokenName($0["pad_token"]) }),
           let id = definition.tokenStrings.firstIndex(where: { $0 == name }) {
            definition.padTokenId = Int32(id)
        }
        return definition
    }

    /// A special token in tokenizer_config.json: a string or an AddedToken object.
    static func specialTokenName(_ value: Any?) -> String? {
        if let name = value as? String { return name }
        if let object = value as? [String: Any] { return object["content"] as? String }
        return nil
    }

    /// id → token for a vocabulary plus added tokens.
    static func tokenStrings(vocabulary: [(String, Int32)], added: [AddedToken]) -> [String?] {
        let count = max(vocabulary.map { Int($0.1) + 1 }.max() ?? 0, added.map { Int($0.id) + 1 }.max() ?? 0)
        var strings = [String?](repeating: nil, count: count)
        for (token, id) in vocabulary where id >= 0 { strings[Int(id)] = token }
        for token in added where token.id >= 0 { strings[Int(token.id)] = token.content }
        return strings
    }

    /// The first of `candidates` in the token list: the pad token when nothing names it.
    static func findToken(_ candidates: [String], in strings: [String?]) -> Int32? {
        for candidate in candidates {
            if let id = strings.firstIndex(where: { $0 == candidate }) { return Int32(id) }
        }
        return nil
    }
}

/// File access with errors that name the file.
struct DirectoryFiles {
    let directory: URL

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: url(name).path) }

    func data(_ name: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url(name).path) else {
            throw TokenizerError.missingFile("\(url(name).path) does not exist or cannot be read")
        }
        return data
    }

    func jsonObject(_ name: String) throws -> [String: Any] {
        let data = try data(name)
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw TokenizerError.invalidFile(url(name).path, reason: "not a JSON object")
            }
            return object
        } catch let error as TokenizerError {
            throw error
        } catch {
            throw TokenizerError.invalidFile(url(name).path, reason: "not valid JSON (\(error.localizedDescription))")
        }
    }

    func jsonObjectIfPresent(_ name: String) throws -> [String: Any]? {
        exists(name) ? try jsonObject(name) : nil
    }

    func text(_ name: String) throws -> String {
        guard let text = String(data: try data(name), encoding: .utf8) else {
            throw TokenizerError.invalidFile(url(name).path, reason: "not valid UTF-8")
        }
        return text
    }
}
