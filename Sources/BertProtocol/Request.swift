import Foundation

/// A request as the daemon receives it: one JSON object in the last frame of a message.
///
///     {"v": 1, "id": "42", "op": "classify", "model": "sentiment", "texts": ["…"],
///      "pairs": ["…"], "labels": ["…"], "top_k": 2, "deadline_ms": 250, "truncate": true}
///
/// One typed value per operation: parsing checks every field, so the server never unwraps.
/// Parsing keeps the `id` even when the rest is invalid, so that an error reply still carries it.
public struct Request: Sendable {
    /// Echoed verbatim in the reply (a string or a number; null when the request had none).
    public var id: JSON
    public var operation: Operation

    public var op: Op { operation.op }

    public init(id: JSON, _ operation: Operation) {
        self.id = id
        self.operation = operation
    }

    /// The JSON text of this request (what a client sends).
    public var json: JSON {
        .object([("v", .int(protocolVersion)), ("id", id), ("op", .string(op.rawValue))] + operation.fields)
    }
}

extension Request {
    /// What a request asks for, with exactly the fields its operation takes.
    public enum Operation: Sendable, Equatable {
        case classify(Inference)
        case embed(Inference)
        case explain(ExplainRequest)
        case models, status, ping
        /// Load (or replace) the model `name` from the directory `path`, in `precision` ("fp32" or
        /// "int8"; nil: fp32); `force` serves int8 without a passed quality gate; `longDocuments`
        /// reads long texts in windows (nil: as the directory's config.json says).
        case load(name: String, path: String, precision: String? = nil, force: Bool = false, longDocuments: LongDocumentSettings? = nil)
        case unload(name: String)
        case train(TrainingRequest)
        /// One job by id, or all of them.
        case jobs(id: String?)
        case cancel(job: String)

        public var op: Op {
            switch self {
            case .classify: return .classify
            case .embed: return .embed
            case .explain: return .explain
            case .models: return .models
            case .status: return .status
            case .ping: return .ping
            case .load: return .load
            case .unload: return .unload
            case .train: return .train
            case .jobs: return .jobs
            case .cancel: return .cancel
            }
        }

        /// The texts of a classify or embed request.
        public var inference: Inference? {
            switch self {
            case .classify(let i), .embed(let i): return i
            case .explain(let e): return e.inference
            default: return nil
            }
        }

        var fields: [(String, JSON)] {
            switch self {
            case .classify(let i), .embed(let i): return i.fields
            case .explain(let e): return e.fields
            case .models, .status, .ping: return []
            case .load(let name, let path, let precision, let force, let longDocuments):
                return [("name", .string(name)), ("path", .string(path))] + (precision.map { [("precision", .string($0))] } ?? [])
                    + (force ? [("force", .bool(true))] : []) + (longDocuments.map { [("long_documents", $0.json)] } ?? [])
            case .unload(let name): return [("name", .string(name))]
            case .train(let t): if case .object(let f) = t.json { return f } else { return [] }
            case .jobs(let id): return id.map { [("job", .string($0))] } ?? []
            case .cancel(let job): return [("job", .string(job))]
            }
        }
    }
}

/// classify and embed: texts (each with an optional pair) for one model.
public struct Inference: Sendable, Equatable {
    /// The model by name; nil: the default model.
    public var model: String?
    public var texts: [String]
    /// The second text of each pair, one per text.
    public var pairs: [String]?
    /// classify only: candidate labels for zero-shot classification with an embedding model.
    public var labels: [String]?
    public var topK: Int?
    public var deadlineMs: Int?
    /// false: a text longer than the model takes is an error instead of being cut.
    public var truncate: Bool

    public init(texts: [String], model: String? = nil, pairs: [String]? = nil, labels: [String]? = nil,
                topK: Int? = nil, deadlineMs: Int? = nil, truncate: Bool = true) {
        self.texts = texts
        self.model = model
        self.pairs = pairs
        self.labels = labels
        self.topK = topK
        self.deadlineMs = deadlineMs
        self.truncate = truncate
    }

    var fields: [(String, JSON)] {
        var fields: [(String, JSON)] = []
        if let model { fields.append(("model", .string(model))) }
        fields.append(("texts", .array(texts.map { .string($0) })))
        if let pairs { fields.append(("pairs", .array(pairs.map { .string($0) }))) }
        if let labels { fields.append(("labels", .array(labels.map { .string($0) }))) }
        if let topK { fields.append(("top_k", .int(topK))) }
        if let deadlineMs { fields.append(("deadline_ms", .int(deadlineMs))) }
        if !truncate { fields.append(("truncate", .bool(false))) }
        return fields
    }
}

/// Parsing of request bytes, with one error per problem and a message naming the field.
public enum RequestParser {
    /// The outcome of parsing: the request, or the error to reply with and whatever id was found.
    public enum Outcome: Sendable {
        case request(Request)
        case failure(id: JSON, error: ProtocolError)
    }

    public static func parse(_ bytes: [UInt8]) -> Outcome {
        guard let text = String(validatingUTF8Bytes: bytes) else {
            return .failure(id: .null, error: ProtocolError(.badRequest, "the message is not valid UTF-8"))
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            return .failure(id: .null, error: ProtocolError(.badRequest, "the message is not valid JSON"))
        }
        guard let fields = object as? [String: Any] else {
            return .failure(id: .null, error: ProtocolError(.badRequest, "the request must be a JSON object"))
        }
        let id: JSON
        switch fields["id"] {
        case nil, is NSNull: id = .null
        case let s as String: id = .string(s)
        case let n as NSNumber where JSONNumber.isInteger(n): id = .int(n.intValue)
        default: return .failure(id: .null, error: ProtocolError(.badRequest, "\"id\" must be a string or an integer"))
        }
        do {
            return .request(try decode(fields, id: id))
        } catch let error as ProtocolError {
            return .failure(id: id, error: error)
        } catch {
            return .failure(id: id, error: ProtocolError(.internal, "\(error)"))
        }
    }

    /// The precisions a `load` may ask for (BertCore's `Precision`).
    public static let precisions = ["fp32", "int8"]

    private static func decode(_ f: [String: Any], id: JSON) throws -> Request {
        if let n = try optional(f, "v", Int.self) {
            guard n == protocolVersion else {
                throw ProtocolError(.unsupportedVersion, "protocol version \(n) is not supported (this daemon speaks \(protocolVersion))")
            }
        }
        guard let opName = f["op"] else { throw ProtocolError(.badRequest, "missing \"op\"") }
        guard let opText = opName as? String else { throw ProtocolError(.badRequest, "\"op\" must be a string") }
        guard let op = Op(rawValue: opText) else {
            throw ProtocolError(.unknownOp, "unknown op \"\(opText)\" (known: \(Op.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let model = try optional(f, "model", String.self)
        switch op {
        case .classify: return Request(id: id, .classify(try inference(f, model: model)))
        case .embed: return Request(id: id, .embed(try inference(f, model: model)))
        case .explain: return Request(id: id, .explain(try explainRequest(f, model: model)))
        case .load: return Request(id: id, try load(f))
        case .unload: return Request(id: id, .unload(name: try required(f, "name", String.self)))
        case .train: return Request(id: id, .train(try trainingRequest(f, model: model)))
        case .jobs: return Request(id: id, .jobs(id: try optional(f, "job", String.self)))
        case .cancel: return Request(id: id, .cancel(job: try required(f, "job", String.self)))
        case .models: return Request(id: id, .models)
        case .status: return Request(id: id, .status)
        case .ping: return Request(id: id, .ping)
        }
    }

    /// The fields of load, each checked (the HTTP gateway's `POST /v1/load` takes the same).
    public static func load(_ f: [String: Any]) throws -> Request.Operation {
        let precision = try optional(f, "precision", String.self)
        if let precision, !Self.precisions.contains(precision) {
            throw ProtocolError(.badRequest, "\"precision\" must be one of \(Self.precisions.joined(separator: ", ")) (got \"\(precision)\")")
        }
        return .load(name: try required(f, "name", String.self), path: try required(f, "path", String.self), precision: precision,
                     force: try optional(f, "force", Bool.self) ?? false, longDocuments: try LongDocumentSettings.parse(f, "long_documents"))
    }

    /// The fields of classify and embed, each checked.
    public static func inference(_ f: [String: Any], model: String?) throws -> Inference {
        var r = Inference(texts: [], model: model)
        if let one = try optional(f, "text", String.self) {
            guard f["texts"] == nil else { throw ProtocolError(.badRequest, "give \"text\" or \"texts\", not both") }
            r.texts = [one]
        } else {
            guard f["texts"] != nil else { throw ProtocolError(.badRequest, "missing \"texts\" (an array of strings)") }
            r.texts = try stringArray(f, "texts")
        }
        guard !r.texts.isEmpty else { throw ProtocolError(.badRequest, "\"texts\" is empty") }
        if f["pairs"] != nil {
            let pairs = try stringArray(f, "pairs")
            guard pairs.count == r.texts.count else {
                throw ProtocolError(.badRequest, "\"pairs\" has \(pairs.count) entries for \(r.texts.count) texts")
            }
            r.pairs = pairs
        }
        if f["labels"] != nil {
            let labels = try stringArray(f, "labels")
            guard !labels.isEmpty else { throw ProtocolError(.badRequest, "\"labels\" is empty") }
            guard Set(labels).count == labels.count else { throw ProtocolError(.badRequest, "\"labels\" has duplicates") }
            guard labels.allSatisfy({ !$0.isEmpty }) else { throw ProtocolError(.badRequest, "\"labels\" has an empty label") }
            r.labels = labels
        }
        r.topK = try optional(f, "top_k", Int.self)
        if let k = r.topK, k < 1 { throw ProtocolError(.badRequest, "\"top_k\" must be at least 1") }
        r.deadlineMs = try optional(f, "deadline_ms", Int.self)
        if let d = r.deadlineMs, d < 0 { throw ProtocolError(.badRequest, "\"deadline_ms\" must not be negative") }
        r.truncate = try optional(f, "truncate", Bool.self) ?? true
        return r
    }

    private static func trainingRequest(_ f: [String: Any], model: String?) throws -> TrainingRequest {
        let name = try required(f, "name", String.self)
        guard !name.isEmpty, !name.contains("/") else { throw ProtocolError(.badRequest, "\"name\" must be a non-empty model name without \"/\"") }
        var t = TrainingRequest(name: name, train: try required(f, "train", String.self),
                                validation: try optional(f, "validation", String.self), baseModel: model)
        guard let raw = f["options"], !(raw is NSNull) else { return t }
        guard let options = raw as? [String: Any] else { throw ProtocolError(.badRequest, "\"options\" must be an object") }
        for (key, value) in options {
            guard let kind = TrainingRequest.optionTypes[key] else {
                throw ProtocolError(.badRequest, "unknown training option \"\(key)\" (known: \(TrainingRequest.optionTypes.keys.sorted().joined(separator: ", ")))")
            }
            let one = [key: value]
            switch kind {
            case .string: t.options[key] = .string(try required(one, key, String.self))
            case .integer: t.options[key] = .integer(try required(one, key, Int.self))
            case .bool: t.options[key] = .bool(try required(one, key, Bool.self))
            case .number:
                guard let n = value as? NSNumber, !JSONNumber.isBool(n), n.doubleValue.isFinite else {
                    throw ProtocolError(.badRequest, "\"\(key)\" must be a number")
                }
                t.options[key] = .number(n.doubleValue)
            }
        }
        return t
    }

    static func optional<T>(_ f: [String: Any], _ key: String, _ type: T.Type) throws -> T? {
        guard let raw = f[key], !(raw is NSNull) else { return nil }
        if T.self == Bool.self {
            guard let n = raw as? NSNumber, JSONNumber.isBool(n) else { throw ProtocolError(.badRequest, "\"\(key)\" must be true or false") }
            return n.boolValue as? T
        }
        if T.self == Int.self {
            guard let n = raw as? NSNumber, JSONNumber.isInteger(n) else { throw ProtocolError(.badRequest, "\"\(key)\" must be an integer") }
            return n.intValue as? T
        }
        if raw is NSNumber { throw ProtocolError(.badRequest, "\"\(key)\" must be a string") }
        guard let value = raw as? T else { throw ProtocolError(.badRequest, "\"\(key)\" must be a \(T.self == String.self ? "string" : "\(T.self)")") }
        return value
    }

    static func required<T>(_ f: [String: Any], _ key: String, _ type: T.Type) throws -> T {
        guard let v = try optional(f, key, type) else { throw ProtocolError(.badRequest, "missing \"\(key)\"") }
        return v
    }

    static func stringArray(_ f: [String: Any], _ key: String) throws -> [String] {
        guard let array = f[key] as? [Any], let strings = array as? [String], strings.count == array.count else {
            throw ProtocolError(.badRequest, "\"\(key)\" must be an array of strings")
        }
        return strings
    }
}

/// What kind of JSON number JSONSerialization produced: booleans, integers and fractions all
/// arrive as NSNumber, told apart by their Objective-C type code.
public enum JSONNumber {
    public static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }
    public static func isInteger(_ n: NSNumber) -> Bool {
        let code = String(cString: n.objCType)
        return code != "c" && code != "d" && code != "f"
    }
}

extension String {
    /// nil unless `bytes` is valid UTF-8.
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
