import BertProtocol
import Foundation

/// HTTP request bodies → the protocol's typed operations, with the same checks and messages as
/// a ZeroMQ request (`RequestParser`): `inputs` (a string or a list of strings) takes the place
/// of `texts`; every other field has the name it has on ZeroMQ.
enum RequestBodies {
    /// A JSON object, or `bad_request`. An empty body is an empty object (GET-like POSTs).
    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        guard String(bytes: bytes, encoding: .utf8) != nil else { throw ProtocolError(.badRequest, "the body is not valid UTF-8") }
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            throw ProtocolError(.badRequest, "the body is not valid JSON")
        }
        guard let object = value as? [String: Any] else { throw ProtocolError(.badRequest, "the body must be a JSON object") }
        return object
    }

    /// `POST /v1/classify` and `/v1/embed`: `inputs` for `texts`, the rest as on ZeroMQ.
    static func inference(_ f: [String: Any], inputsKey: String = "inputs") throws -> Inference {
        try withTexts(f, inputsKey: inputsKey) { try RequestParser.inference($0, model: $1) }
    }

    /// `POST /v1/explain`: `inputs` for `texts`, the rest as the ZeroMQ `explain` request.
    static func explanation(_ f: [String: Any]) throws -> ExplainRequest {
        try withTexts(f, inputsKey: "inputs") { try RequestParser.explainRequest($0, model: $1) }
    }

    /// Parses the fields with `inputsKey` renamed to the protocol's `texts`.
    private static func withTexts<T>(_ f: [String: Any], inputsKey: String, _ parse: ([String: Any], String?) throws -> T) throws -> T {
        var fields = f
        guard let inputs = f[inputsKey], !(inputs is NSNull) else {
            throw ProtocolError(.badRequest, "missing \"\(inputsKey)\" (a string or an array of strings)")
        }
        fields.removeValue(forKey: inputsKey)
        for key in ["text", "texts"] where fields[key] != nil {
            throw ProtocolError(.badRequest, "give the texts as \"\(inputsKey)\", not \"\(key)\"")
        }
        if let one = inputs as? String { fields["texts"] = [one] } else { fields["texts"] = inputs }
        let model = try string(f, "model")
        do {
            return try parse(fields, model)
        } catch let error as ProtocolError {
            // The parser names the ZeroMQ field; the client sent `inputsKey`.
            throw ProtocolError(error.code, error.message.replacingOccurrences(of: "\"texts\"", with: "\"\(inputsKey)\""))
        }
    }

    static func string(_ f: [String: Any], _ key: String) throws -> String? {
        guard let raw = f[key], !(raw is NSNull) else { return nil }
        guard let s = raw as? String else { throw ProtocolError(.badRequest, "\"\(key)\" must be a string") }
        return s
    }

    static func requiredString(_ f: [String: Any], _ key: String) throws -> String {
        guard let s = try string(f, key) else { throw ProtocolError(.badRequest, "missing \"\(key)\"") }
        return s
    }

    static func bool(_ f: [String: Any], _ key: String, default value: Bool) throws -> Bool {
        guard let raw = f[key], !(raw is NSNull) else { return value }
        guard let n = raw as? NSNumber, JSONNumber.isBool(n) else {
            throw ProtocolError(.badRequest, "\"\(key)\" must be true or false")
        }
        return n.boolValue
    }

    /// `POST /v1/train`: the ZeroMQ `train` request's fields, as a JSON body.
    static func training(_ f: [String: Any]) throws -> TrainingRequest {
        var fields = f
        fields["op"] = "train"
        fields["v"] = nil
        let data = try JSONSerialization.data(withJSONObject: fields)
        switch RequestParser.parse(Array(data)) {
        case .request(let r):
            guard case .train(let training) = r.operation else { throw ProtocolError(.internal, "not a train request") }
            return training
        case .failure(_, let error):
            throw error
        }
    }
}
