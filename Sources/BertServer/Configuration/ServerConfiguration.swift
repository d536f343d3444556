// Every setting of the daemon, its default, and where it comes from: one TOML file
// (/etc/bertd/bertd.toml), then `section.key=value` overrides from the command line.
// Deploy/CONFIGURATION.md documents each key; Deploy/bertd.toml lists them all at their defaults.
//
// Reading is strict: an unknown key, a wrong type or an out-of-range value is a ConfigurationError
// naming the key and line, before anything starts. A key that is absent keeps its default.
import BertCore
import BertProtocol
import Foundation

public struct ServerConfiguration: Sendable, Equatable {
    // MARK: [server]

    /// Compute threads; 0 = every core this process may use.
    public var threads: Int = 0
    /// Models, jobs, checkpoints and event logs live here (systemd's StateDirectory=).
    public var stateDirectory: String = "$STATE_DIRECTORY"
    public var logLevel: LogLevel = .info
    /// How long SIGTERM waits for in-flight work before refusing the rest and exiting.
    public var shutdownGraceMs: Int = 10_000
    /// Larger request messages are refused with `too_large` without being parsed.
    public var maxMessageBytes: Int = 1 << 20
    public var maxTextsPerRequest: Int = 256
    /// A single text (UTF-8 bytes) longer than this is refused with `too_large`.
    public var maxTextBytes: Int = 65_536
    /// The PUB socket for events (model loaded/unloaded, training jobs).
    public var eventsEndpoint: String = "ipc://$RUNTIME_DIRECTORY/events.sock"
    /// How often STATUS= is sent to systemd (and the status line logged at debug level).
    public var statusIntervalMs: Int = 1_000

    // MARK: [[endpoint]]

    /// A request socket (ROUTER) to bind, and the operations it serves.
    public struct Endpoint: Sendable, Equatable {
        /// `tcp://host:port`, `ipc:///path` or `inproc://name`.
        public var address: String
        /// Operation names this endpoint answers; the rest get `forbidden`.
        /// `"*"` in the file stands for every operation and is expanded here, so this set is explicit.
        public var operations: Set<String>
        /// CurveZMQ encryption and client authentication ([curve] holds the keys).
        public var curve: Bool

        public init(address: String, operations: Set<String>, curve: Bool = false) {
            self.address = address
            self.operations = operations
            self.curve = curve
        }

        public func allows(_ operation: String) -> Bool { operations.contains(operation) }
    }

    public var endpoints: [Endpoint] = [
        Endpoint(address: "tcp://127.0.0.1:5555", operations: ServerConfiguration.publicOperations),
        Endpoint(address: "ipc://$RUNTIME_DIRECTORY/bertd.sock", operations: ServerConfiguration.allOperations),
    ]

    // MARK: [batching]

    /// Token budget of one padding-free batch (the sum of the sequences' lengths).
    public var maxBatchTokens: Int = 8_192
    /// At most this many sequences in one batch.
    public var maxBatchRequests: Int = 64
    /// Wait up to this long for more work before running a batch on an idle engine (0 = never wait).
    public var maxDelayMs: Int = 0
    /// Admission bound: queued tokens past this get `overloaded` at once.
    public var maxQueueTokens: Int = 262_144
    /// Admission bound: queued texts past this get `overloaded` at once.
    public var maxQueueRequests: Int = 4_096

    // MARK: [models]

    /// A model directory served under a name.
    public struct ModelEntry: Sendable, Equatable {
        public var name: String
        /// A Hugging Face model directory (config.json, model.safetensors, tokenizer files).
        public var path: String
        /// The encoder's arithmetic: int8 needs a passed quality gate in the directory
        /// (`bertctl quantize`) unless `force`.
        public var precision: Precision
        /// Serve in `precision` without a passed gate.
        public var force: Bool
        /// Read texts longer than the model takes in windows (`window`, `stride`, `aggregate`);
        /// nil: as the directory's config.json says (`long_documents`), else truncate.
        public var longDocuments: LongDocumentSettings?

        public init(name: String, path: String, precision: Precision = .fp32, force: Bool = false,
                    longDocuments: LongDocumentSettings? = nil) {
            self.name = name
            self.path = path
            self.precision = precision
            self.force = force
            self.longDocuments = longDocuments
        }
    }

    /// Models to load at start, in file order.
    public var models: [ModelEntry] = [
        ModelEntry(name: "minilm", path: "$STATE_DIRECTORY/models/all-MiniLM-L6-v2"),
    ]
    /// The model a request without `model` uses.
    public var defaultModel: String = "minilm"

    // MARK: [curve]

    // MARK: [http]

    /// The HTTP gateway's public listener, `HOST:PORT` (port `*` or 0: any free one); "" = off.
    /// It serves the public operations (classify, embed, models, status) and the web routes.
    public var httpAddress: String = ""
    /// The gateway's admin listener (load, unload, train, jobs, cancel too): a Unix socket path,
    /// or `HOST:PORT`. Only used when `httpAddress` is set.
    public var httpAdminAddress: String = "$RUNTIME_DIRECTORY/http.sock"
    /// Larger request bodies get 413 without being read further.
    public var httpMaxBodyBytes: Int = 1 << 20
    /// Open connections past this wait to be accepted (per listener).
    public var httpMaxConnections: Int = 1_024
    /// A connection with nothing to read or write for this long is closed.
    public var httpIdleTimeoutMs: Int = 30_000
    /// A client must send a request's head (line and headers) within this long of connecting,
    /// or of its previous answer, or its connection is closed (slow clients cannot pin it).
    public var httpHeaderTimeoutMs: Int = 10_000
    /// Bearer tokens the public listener requires (one per line); nil: none required.
    public var httpTokensFile: String? = nil
    /// Bearer tokens the admin listener requires; nil: none (the Unix socket's permissions guard it).
    public var httpAdminTokensFile: String? = nil

    // MARK: [metrics]

    /// A listener serving only /metrics (and /healthz, /readyz), `HOST:PORT`; "" = none. For
    /// Prometheus when the HTTP gateway is off (with it on, /metrics is on its listeners too).
    public var metricsAddress: String = ""

    /// The server's CurveZMQ secret key, Z85 (40 characters); needed when an endpoint has curve = true.
    public var curveSecretKeyFile: String? = nil
    /// Client public keys (Z85, one per line, # comments) allowed on curve endpoints.
    public var curveAuthorizedKeysFile: String? = nil

    // MARK: Operations

    /// Every operation name an endpoint may list (`"*"` means all of these).
    public static let allOperations = Set(Op.allCases.map(\.rawValue))
    /// What the default TCP endpoint (and an `[[endpoint]]` without `operations`) serves: no admin operations.
    public static let publicOperations = Set(Op.publicOperations.map(\.rawValue))

    public var defaultModelEntry: ModelEntry? { models.first { $0.name == defaultModel } }

    // MARK: Loading

    /// The documented defaults with `$RUNTIME_DIRECTORY`/`$STATE_DIRECTORY` expanded from this
    /// process's environment (/run/bertd and /var/lib/bertd when systemd did not set them).
    public static let defaults: ServerConfiguration = defaults(environment: ProcessInfo.processInfo.environment)

    public static func defaults(environment: [String: String]) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        let expander = PathExpander(environment: environment, baseDirectory: "/")
        // The defaults only use variables with fallbacks, so expansion cannot fail.
        configuration.stateDirectory = try! expander.expand(configuration.stateDirectory)
        configuration.eventsEndpoint = try! expander.expandEndpoint(configuration.eventsEndpoint)
        configuration.httpAdminAddress = try! expander.expand(configuration.httpAdminAddress)
        for index in configuration.endpoints.indices {
            configuration.endpoints[index].address = try! expander.expandEndpoint(configuration.endpoints[index].address)
        }
        for index in configuration.models.indices {
            configuration.models[index].path = try! expander.expand(configuration.models[index].path)
        }
        return configuration
    }

    /// Reads and validates a configuration file. Relative paths in it are relative to its directory.
    public static func load(path: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(.unreadableFile, source: path,
                                     message: "cannot read the configuration file: \(Self.reason(error))")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, source: path, environment: environment, baseDirectory: directory)
    }

    /// Parses and validates configuration text. `source` names it in errors (usually the file path).
    public static func parse(_ text: String, source: String) throws -> ServerConfiguration {
        try parse(text, source: source, environment: ProcessInfo.processInfo.environment,
                  baseDirectory: FileManager.default.currentDirectoryPath)
    }

    public static func parse(_ text: String, source: String, environment: [String: String],
                             baseDirectory: String? = nil) throws -> ServerConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLParser.parse(text)
        } catch {
            throw ConfigurationError(.syntax, source: source, line: error.line, message: error.message)
        }
        let context = DecodingContext(
            source: source,
            expander: PathExpander(environment: environment,
                                   baseDirectory: baseDirectory ?? FileManager.default.currentDirectoryPath))
        var configuration = defaults(environment: environment)
        var lines = KeyLines()
        try configuration.decode(root, context: context, lines: &lines)
        try configuration.validate(source: source, lines: lines)
        return configuration
    }

    /// Applies one command-line override, `section.key=value`, e.g. `batching.max_batch_tokens=8192`,
    /// `server.log_level=debug`, `models.bge.path=/srv/models/bge`, `endpoint.0.operations=ping,status`.
    /// The value is TOML (`"…"`, numbers, `true`, `[…]`); a string or a comma-separated list may
    /// also be given bare. The whole configuration is validated again; on error nothing changes.
    public mutating func apply(override: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let source = "command line"
        guard let equals = override.firstIndex(of: "=") else {
            throw ConfigurationError(.syntax, source: source,
                                     message: "override '\(override)' is not of the form section.key=value")
        }
        let key = override[..<equals].trimmingCharacters(in: .whitespaces)
        let raw = override[override.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard path.count >= 2, !path.contains(where: \.isEmpty) else {
            throw ConfigurationError(.syntax, source: source, key: key,
                                     message: "an override names a section and a key, e.g. batching.max_batch_tokens=8192")
        }
        let value = (try? TOMLParser.parseValue(raw)) ?? .string(raw)
        let context = DecodingContext(
            source: source,
            expander: PathExpander(environment: environment, baseDirectory: FileManager.default.currentDirectoryPath))
        var updated = self
        try updated.set(path: path, setting: Setting(value: value, raw: raw, line: nil), context: context)
        try updated.validate(source: source, lines: KeyLines())
        self = updated
    }

    /// "no such file", "permission denied", … for a file that could not be read.
    static func reason(_ error: Error) -> String {
        if let error = error as? CocoaError {
            if error.code == .fileReadNoSuchFile { return "no such file" }
            if error.code == .fileReadNoPermission { return "permission denied" }
            if let underlying = error.underlying as? POSIXError {
                return String(cString: strerror(underlying.code.rawValue)).lowercased()
            }
        }
        return error.localizedDescription
    }
}

private extension CocoaError {
    var underlying: Error? { userInfo[NSUnderlyingErrorKey] as? Error }
}
