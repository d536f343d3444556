// From a parsed TOML table (or one command-line override) to ServerConfiguration fields.
// Every key is listed explicitly; one `set(path:)` serves both the file and the overrides, so a
// key behaves the same wherever it is given.

import BertCore
import BertProtocol

/// One value to assign, with what error messages need: the line (file) or the raw text (override).
struct Setting {
    var value: TOMLValue
    /// The override's text after `=`; lets `server.log_level=debug` work without quotes.
    var raw: String?
    var line: Int?
}

/// The line each key was set on, so validation errors can point at it.
typealias KeyLines = [String: Int]

struct DecodingContext {
    var source: String
    var expander: PathExpander

    func error(_ code: ConfigurationError.Code, _ key: String, _ setting: Setting?, _ message: String) -> ConfigurationError {
        ConfigurationError(code, source: source, line: setting?.line, key: key, message: message)
    }

    func integer(_ setting: Setting, _ key: String) throws -> Int {
        guard case .integer(let value) = setting.value else { throw wrongType(setting, key, expected: "an integer") }
        return Int(value)
    }

    func boolean(_ setting: Setting, _ key: String) throws -> Bool {
        guard case .boolean(let value) = setting.value else { throw wrongType(setting, key, expected: "a boolean (true or false)") }
        return value
    }

    func string(_ setting: Setting, _ key: String) throws -> String {
        if case .string(let value) = setting.value { return value }
        if let raw = setting.raw, case .integer = setting.value { return raw }  // models.default=2024 on a command line
        throw wrongType(setting, key, expected: "a string")
    }

    func stringArray(_ setting: Setting, _ key: String) throws -> [String] {
        switch setting.value {
        case .array(let elements):
            return try elements.map { element in
                guard case .string(let value) = element else {
                    throw error(.wrongType, key, setting, "expected an array of strings, found an element that is \(element.typeName)")
                }
                return value
            }
        case .string(let value) where setting.raw != nil:  // endpoint.0.operations=classify,ping
            return value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        default:
            throw wrongType(setting, key, expected: "an array of strings")
        }
    }

    func path(_ setting: Setting, _ key: String) throws -> String {
        let text = try string(setting, key)
        do {
            return try expander.expand(text)
        } catch {
            throw self.error(.invalidValue, key, setting, error.message)
        }
    }

    func endpoint(_ setting: Setting, _ key: String) throws -> String {
        let text = try string(setting, key)
        do {
            return try expander.expandEndpoint(text)
        } catch {
            throw self.error(.invalidValue, key, setting, error.message)
        }
    }

    func wrongType(_ setting: Setting, _ key: String, expected: String) -> ConfigurationError {
        error(.wrongType, key, setting, "expected \(expected), found \(setting.value.typeName)")
    }
}

extension ServerConfiguration {
    /// The keys of each section, as written in bertd.toml (CONFIGURATION.md documents each one).
    public static let knownKeys: [String: [String]] = [
        "server": ["threads", "state_directory", "log_level", "shutdown_grace_ms", "max_message_bytes",
                   "max_texts_per_request", "max_text_bytes", "events_endpoint", "status_interval_ms"],
        "endpoint": ["address", "operations", "curve"],
        "batching": ["max_batch_tokens", "max_batch_requests", "max_delay_ms", "max_queue_tokens", "max_queue_requests"],
        "models": ["default"],
        "models.NAME": ["path", "precision", "force", "window", "stride", "aggregate"],
        "curve": ["secret_key_file", "authorized_keys_file"],
        "http": ["address", "admin_address", "max_body_bytes", "max_connections", "idle_timeout_ms", "header_timeout_ms",
                 "tokens_file", "admin_tokens_file"],
        "metrics": ["address"],
    ]
    static let sections = ["server", "endpoint", "batching", "models", "curve", "http", "metrics"]

    // MARK: The file

    mutating func decode(_ root: TOMLTable, context: DecodingContext, lines: inout KeyLines) throws {
        for entry in root.entries {
            switch (entry.key, entry.value) {
            case ("server", .table(let table)), ("batching", .table(let table)), ("curve", .table(let table)),
                 ("http", .table(let table)), ("metrics", .table(let table)):
                for item in table.entries {
                    try assign([entry.key, item.key], item, context: context, lines: &lines)
                }
            case ("models", .table(let table)):
                try decodeModels(table, context: context, lines: &lines)
            case ("endpoint", .tableArray(let tables)):
                endpoints = []
                for (index, table) in tables.enumerated() {
                    endpoints.append(Endpoint(address: "", operations: Self.publicOperations))
                    for item in table.entries {
                        try assign(["endpoint", String(index), item.key], item, context: context, lines: &lines)
                    }
                    guard table["address"] != nil else {
                        throw ConfigurationError(.missingKey, source: context.source, line: table.line,
                                                 key: "endpoint.\(index).address",
                                                 message: "every [[endpoint]] needs an address, e.g. address = \"tcp://127.0.0.1:5555\"")
                    }
                }
            case ("endpoint", _):
                throw context.error(.wrongType, "endpoint", Setting(value: entry.value, line: entry.line),
                                    "endpoints are written as [[endpoint]] tables, found \(entry.value.typeName)")
            default:
                let setting = Setting(value: entry.value, line: entry.line)
                if Self.sections.contains(entry.key) {
                    throw context.error(.wrongType, entry.key, setting,
                                        "[\(entry.key)] is a section, found \(entry.value.typeName)")
                }
                switch entry.value {
                case .table, .tableArray:
                    throw context.error(.unknownKey, entry.key, setting,
                                        "unknown section [\(entry.key)]\(Self.suggestion(entry.key, among: Self.sections)); "
                                            + "sections are " + Self.sections.map { "[\($0)]" }.joined(separator: ", "))
                default:
                    let owner = Self.knownKeys.first { $0.value.contains(entry.key) }?.key
                    let hint = owner.map { "; it belongs in the [\($0)] section" } ?? ""
                    throw context.error(.unknownKey, entry.key, setting, "unknown key at the top of the file\(hint)")
                }
            }
        }
    }

    /// `[models]` holds `default`; each `[models.NAME]` table is a model. Model tables in the file
    /// replace the default model list.
    private mutating func decodeModels(_ table: TOMLTable, context: DecodingContext, lines: inout KeyLines) throws {
        var sawDefault = false
        var sawModel = false
        for item in table.entries {
            if case .table(let model) = item.value {
                if !sawModel { models = [] }
                sawModel = true
                for field in model.entries {
                    try assign(["models", item.key, field.key], field, context: context, lines: &lines)
                }
                guard model["path"] != nil else {
                    throw ConfigurationError(.missingKey, source: context.source, line: model.line,
                                             key: "models.\(item.key).path",
                                             message: "a model needs the path of its directory")
                }
            } else {
                sawDefault = sawDefault || item.key == "default"
                try assign(["models", item.key], item, context: context, lines: &lines)
            }
        }
        // One model and no `default`: that model is the default.
        if sawModel && !sawDefault && models.count == 1 { defaultModel = models[0].name }
    }

    private mutating func assign(_ path: [String], _ entry: TOMLTable.Entry, context: DecodingContext,
                                 lines: inout KeyLines) throws {
        lines[path.joined(separator: ".")] = entry.line
        try set(path: path, setting: Setting(value: entry.value, raw: nil, line: entry.line), context: context)
    }

    // MARK: One key

    /// Assigns one setting. `path` is the key split at dots: `["batching", "max_batch_tokens"]`,
    /// `["models", "minilm", "path"]`, `["endpoint", "0", "address"]`.
    mutating func set(path: [String], setting: Setting, context: DecodingContext) throws {
        let key = SettingKey(path: path, setting: setting, context: context)
        switch (path.count, path[0]) {
        case (2, "server"): try setServer(path[1], key)
        case (2, "batching"): try setBatching(path[1], key)
        case (2, "curve"): try setCurve(path[1], key)
        case (2, "http"): try setHTTP(path[1], key)
        case (2, "metrics"):
            guard path[1] == "address" else { throw key.unknown(in: "metrics", path[1]) }
            metricsAddress = try key.string
        case (2, "models"): try setDefaultModel(path[1], key)
        case (3, "models"): try setModel(name: path[1], path[2], key)
        case (3, "endpoint"): try setEndpoint(number: path[1], path[2], key)
        default:
            let section = path[0]
            throw key.error(.unknownKey, Self.sections.contains(section)
                                ? "not a key of [\(section)]; known keys: " + (Self.knownKeys[section] ?? []).joined(separator: ", ")
                                : "unknown section '\(section)'\(Self.suggestion(section, among: Self.sections))")
        }
    }

    /// One key being set, with what its errors need to name it.
    struct SettingKey {
        let path: [String]
        let setting: Setting
        let context: DecodingContext
        var name: String { path.joined(separator: ".") }

        func error(_ code: ConfigurationError.Code, _ message: String) -> ConfigurationError {
            context.error(code, name, setting, message)
        }

        func unknown(in section: String, _ leaf: String) -> ConfigurationError {
            let known = ServerConfiguration.knownKeys[section] ?? []
            return error(.unknownKey, "unknown key '\(leaf)' in [\(section)]\(ServerConfiguration.suggestion(leaf, among: known)); "
                                        + "known keys: " + known.joined(separator: ", "))
        }

        var integer: Int { get throws { try context.integer(setting, name) } }
        var string: String { get throws { try context.string(setting, name) } }
        var directory: String { get throws { try context.path(setting, name) } }
        var boolean: Bool { get throws { try context.boolean(setting, name) } }
        var endpoint: String { get throws { try context.endpoint(setting, name) } }
    }

    private mutating func setServer(_ leaf: String, _ key: SettingKey) throws {
        switch leaf {
        case "threads": threads = try key.integer
        case "state_directory": stateDirectory = try key.directory
        case "log_level":
            let name = try key.string
            guard let level = LogLevel(name: name) else {
                throw key.error(.invalidValue, "must be one of " + LogLevel.allCases.reversed().map(\.name).joined(separator: ", ")
                                    + " (found \"\(name)\")")
            }
            logLevel = level
        case "shutdown_grace_ms": shutdownGraceMs = try key.integer
        case "max_message_bytes": maxMessageBytes = try key.integer
        case "max_texts_per_request": maxTextsPerRequest = try key.integer
        case "max_text_bytes": maxTextBytes = try key.integer
        case "events_endpoint": eventsEndpoint = try key.endpoint
        case "status_interval_ms": statusIntervalMs = try key.integer
        default: throw key.unknown(in: "server", leaf)
        }
    }

    private mutating func setBatching(_ leaf: String, _ key: SettingKey) throws {
        switch leaf {
        case "max_batch_tokens": maxBatchTokens = try key.integer
        case "max_batch_requests": maxBatchRequests = try key.integer
        case "max_delay_ms": maxDelayMs = try key.integer
        case "max_queue_tokens": maxQueueTokens = try key.integer
        case "max_queue_requests": maxQueueRequests = try key.integer
        default: throw key.unknown(in: "batching", leaf)
        }
    }

    private mutating func setCurve(_ leaf: String, _ key: SettingKey) throws {
        switch leaf {
        case "secret_key_file": curveSecretKeyFile = try key.directory
        case "authorized_keys_file": curveAuthorizedKeysFile = try key.directory
        default: throw key.unknown(in: "curve", leaf)
        }
    }

    private mutating func setHTTP(_ leaf: String, _ key: SettingKey) throws {
        switch leaf {
        case "address": httpAddress = try key.string
        // A path (not HOST:PORT) is relative to the configuration file, like every path.
        case "admin_address": httpAdminAddress = (try key.string).contains("/") ? try key.directory : try key.string
        case "max_body_bytes": httpMaxBodyBytes = try key.integer
        case "max_connections": httpMaxConnections = try key.integer
        case "idle_timeout_ms": httpIdleTimeoutMs = try key.integer
        case "header_timeout_ms": httpHeaderTimeoutMs = try key.integer
        case "tokens_file": httpTokensFile = try key.directory
        case "admin_tokens_file": httpAdminTokensFile = try key.directory
        default: throw key.unknown(in: "http", leaf)
        }
    }

    private mutating func setDefaultModel(_ leaf: String, _ key: SettingKey) throws {
        guard leaf == "default" else {
            throw key.error(.unknownKey, "unknown key '\(leaf)' in [models]; it holds `default`, and each model is a "
                                + "[models.NAME] table with a `path` (override: models.NAME.path=DIR)")
        }
        defaultModel = try key.string
    }

    /// `models.NAME.path|precision|force|window|stride|aggregate`: a model to load at start (a new
    /// name adds one; a new name without a path fails validation).
    private mutating func setModel(name: String, _ leaf: String, _ key: SettingKey) throws {
        let index = models.firstIndex(where: { $0.name == name }) ?? {
            models.append(ModelEntry(name: name, path: ""))
            return models.count - 1
        }()
        switch leaf {
        case "path": models[index].path = try key.directory
        case "precision":
            let name = try key.string
            guard let precision = Precision(rawValue: name) else {
                throw key.error(.invalidValue, "must be one of " + Precision.allCases.map(\.rawValue).joined(separator: ", ") + " (found \"\(name)\")")
            }
            models[index].precision = precision
        case "force": models[index].force = try key.boolean
        case "window", "stride":
            let value = try key.integer
            guard value >= 0, leaf == "stride" || value == 0 || value >= 8 else {
                throw key.error(.invalidValue, leaf == "window" ? "must be 0 (the model's maximum) or at least 8 tokens (found \(value))"
                                                                 : "must not be negative (found \(value))")
            }
            var settings = models[index].longDocuments ?? LongDocumentSettings()
            if leaf == "window" { settings.window = value } else { settings.stride = value }
            models[index].longDocuments = settings
        case "aggregate":
            var settings = models[index].longDocuments ?? LongDocumentSettings()
            settings.aggregate = try key.string
            do { _ = try settings.aggregation() } catch let error as ProtocolError { throw key.error(.invalidValue, error.message) }
            models[index].longDocuments = settings
        default: throw key.unknown(in: "models.NAME", leaf)
        }
    }

    /// `endpoint.N.address|operations|curve`; N = the endpoint count adds one (address first).
    private mutating func setEndpoint(number: String, _ leaf: String, _ key: SettingKey) throws {
        guard let index = Int(number), (0...endpoints.count).contains(index) else {
            throw key.error(.invalidValue, "there is no endpoint \(number) (endpoints are numbered from 0; there are \(endpoints.count), and endpoint.\(endpoints.count).address adds one)")
        }
        if index == endpoints.count {
            // The next number adds an endpoint (public operations unless set after it).
            guard leaf == "address" else {
                throw key.error(.invalidValue, "a new endpoint starts with endpoint.\(index).address; set its operations and curve after it")
            }
            endpoints.append(Endpoint(address: "", operations: Self.publicOperations))
        }
        switch leaf {
        case "address": endpoints[index].address = try key.endpoint
        case "operations":
            let names = try key.context.stringArray(key.setting, key.name)
            if let unknownName = names.first(where: { $0 != "*" && !Self.allOperations.contains($0) }) {
                throw key.error(.invalidValue, "unknown operation \"\(unknownName)\"\(Self.suggestion(unknownName, among: Array(Self.allOperations)))"
                                    + "; operations are " + Self.operationList + " and \"*\" for all")
            }
            endpoints[index].operations = names.contains("*") ? Self.allOperations : Set(names)
        case "curve": endpoints[index].curve = try key.context.boolean(key.setting, key.name)
        default: throw key.unknown(in: "endpoint", leaf)
        }
    }

    static var operationList: String {
        Op.allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// "; did you mean 'threads'?" when a known name is within two edits.
    static func suggestion(_ name: String, among candidates: [String]) -> String {
        let best = candidates.map { ($0, editDistance(name, $0)) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= 2, best.1 < name.count else { return "" }
        return " (did you mean '\(best.0)'?)"
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
