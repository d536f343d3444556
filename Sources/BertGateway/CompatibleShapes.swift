import BertProtocol
import Foundation

// Drop-in shapes for clients written against other servers:
//   POST /predict, /embed — Hugging Face text-embeddings-inference (TEI)
//   POST /v1/embeddings   — OpenAI's embeddings API
// Each is mapped onto classify/embed and back; README lists the fields each supports.

enum TEI {
    /// `{"inputs": "text" | ["a", "b"], "raw_scores": false, "truncate": false}`; TEI does not
    /// truncate unless asked.
    static func predictRequest(_ f: [String: Any]) throws -> (Inference, single: Bool, rawScores: Bool) {
        guard let inputs = f["inputs"], !(inputs is NSNull) else {
            throw ProtocolError(.badRequest, "missing \"inputs\" (a string or an array of strings)")
        }
        let single = inputs is String
        if let list = inputs as? [Any], list.contains(where: { $0 is [Any] }) {
            throw ProtocolError(.badRequest, "\"inputs\" as text pairs is not supported on /predict; use /v1/classify with \"pairs\"")
        }
        let fields: [String: Any] = ["texts": single ? [inputs] : inputs]
        var inference = try RequestParser.inference(fields, model: try RequestBodies.string(f, "model"))
        inference.truncate = try RequestBodies.bool(f, "truncate", default: false)
        return (inference, single, try RequestBodies.bool(f, "raw_scores", default: false))
    }

    /// `[{"label": …, "score": …}, …]` per input, best first (a list of them for a list of inputs).
    /// Raw scores are the logits, in the same order as the probabilities would be.
    static func predictResponse(_ result: JSON, single: Bool, rawScores: Bool, labelsInIdOrder: [String]) -> JSON {
        guard case .array(let results)? = result["results"] else { return .array([]) }
        let rendered: [JSON] = results.map { r in
            var pairs: [(String, JSON)] = []
            if rawScores, case .array(let logits)? = r["logits"] {
                pairs = zip(labelsInIdOrder, logits).map { ($0, $1) }
                pairs.sort { number($0.1) > number($1.1) }
            } else if case .object(let scores)? = r["scores"] {
                pairs = scores.sorted { number($0.1) > number($1.1) }
            }
            return .array(pairs.map { .object([("label", .string($0.0)), ("score", $0.1)]) })
        }
        return single ? (rendered.first ?? .array([])) : .array(rendered)
    }

    /// `{"inputs": "text" | [...], "normalize": true, "truncate": false}` → `[[…], …]`.
    static func embedRequest(_ f: [String: Any]) throws -> Inference {
        guard try RequestBodies.bool(f, "normalize", default: true) else {
            throw ProtocolError(.unsupported, "\"normalize\": false is not supported: bertd returns L2-normalised mean-pooled embeddings")
        }
        var inference = try RequestBodies.inference(f.filter { $0.key != "normalize" && $0.key != "truncate" })
        inference.truncate = try RequestBodies.bool(f, "truncate", default: false)
        return inference
    }

    static func embedResponse(_ result: JSON) -> JSON { result["embeddings"] ?? .array([]) }

    private static func number(_ value: JSON) -> Double {
        switch value {
        case .float(let f): return Double(f)
        case .number(let d): return d
        case .int(let i): return Double(i)
        default: return -.infinity
        }
    }
}

enum OpenAIEmbeddings {
    /// `{"input": "text" | ["a", "b"], "model": "minilm", "encoding_format": "float"}`.
    static func request(_ f: [String: Any]) throws -> Inference {
        if let format = try RequestBodies.string(f, "encoding_format"), format != "float" {
            throw ProtocolError(.unsupported, "\"encoding_format\": \"\(format)\" is not supported (only \"float\")")
        }
        if f["dimensions"] != nil && !(f["dimensions"] is NSNull) {
            throw ProtocolError(.unsupported, "\"dimensions\" is not supported: the model's embeddings have one size")
        }
        if let list = f["input"] as? [Any], list.contains(where: { !($0 is String) }) {
            throw ProtocolError(.badRequest, "\"input\" must be a string or an array of strings (token arrays are not supported)")
        }
        return try RequestBodies.inference(f.filter { $0.key != "encoding_format" && $0.key != "user" && $0.key != "dimensions" },
                                           inputsKey: "input")
    }

    /// `{"object": "list", "data": [{"object": "embedding", "index": i, "embedding": […]}], "model": …, "usage": …}`.
    static func response(_ result: JSON) -> JSON {
        guard case .array(let vectors)? = result["embeddings"] else { return .null }
        var tokens = 0
        if case .array(let counts)? = result["tokens"] {
            for case .int(let n) in counts { tokens += n }
        }
        return .object([
            ("object", .string("list")),
            ("data", .array(vectors.enumerated().map { i, v in
                .object([("object", .string("embedding")), ("index", .int(i)), ("embedding", v)])
            })),
            ("model", result["model"] ?? .null),
            ("usage", .object([("prompt_tokens", .int(tokens)), ("total_tokens", .int(tokens))])),
        ])
    }
}
