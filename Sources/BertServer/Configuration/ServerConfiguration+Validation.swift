// Checks on the whole configuration, after the file and every override: ranges, endpoint syntax,
// the default model among the models, and — when an endpoint uses CurveZMQ — key files that exist,
// are readable by this process and hold Z85 keys. Each error names the key (and its line).
import Foundation

extension ServerConfiguration {
    /// The server's CurveZMQ secret key and the client public keys allowed to connect (Z85 each).
    public struct CurveKeys: Sendable, Equatable {
        public var secretKey: String
        public var authorizedKeys: [String]
    }

    /// The CurveZMQ keys, read from their files; nil when no endpoint has `curve = true`.
    public func loadCurveKeys() throws -> CurveKeys? {
        try curveKeys(source: "configuration", lines: KeyLines())
    }

    func validate(source: String, lines: KeyLines) throws {
        func check(_ condition: Bool, _ key: String, _ message: @autoclosure () -> String) throws {
            guard condition else {
                throw ConfigurationError(.invalidValue, source: source, line: lines[key], key: key, message: message())
            }
        }
        func atLeast(_ value: Int, _ minimum: Int, _ key: String) throws {
            try check(value >= minimum, key, "must be at least \(minimum) (found \(value))")
        }

        try check((0...4096).contains(threads), "server.threads",
                  "must be between 0 (every core) and 4096 (found \(threads))")
        try check(stateDirectory.hasPrefix("/"), "server.state_directory", "must be an absolute path (found \"\(stateDirectory)\")")
        try atLeast(shutdownGraceMs, 0, "server.shutdown_grace_ms")
        try atLeast(maxMessageBytes, 1, "server.max_message_bytes")
        try atLeast(maxTextsPerRequest, 1, "server.max_texts_per_request")
        try atLeast(maxTextBytes, 1, "server.max_text_bytes")
        try atLeast(statusIntervalMs, 1, "server.status_interval_ms")
        if let problem = Self.endpointProblem(eventsEndpoint) {
            try check(false, "server.events_endpoint", problem)
        }

        try atLeast(maxBatchTokens, 1, "batching.max_batch_tokens")
        try atLeast(maxBatchRequests, 1, "batching.max_batch_requests")
        try atLeast(maxDelayMs, 0, "batching.max_delay_ms")
        try atLeast(maxQueueTokens, 1, "batching.max_queue_tokens")
        try atLeast(maxQueueRequests, 1, "batching.max_queue_requests")

        if !httpAddress.isEmpty {
            for (key, address) in [("http.address", httpAddress), ("http.admin_address", httpAdminAddress)] {
                if case .failure(let problem) = HTTPListenAddress.parse(address) { try check(false, key, problem.message) }
            }
            try check(httpAddress != httpAdminAddress || httpAddress.hasSuffix(":*") || httpAddress.hasSuffix(":0"),
                      "http.admin_address", "must differ from http.address: the public listener never serves admin routes")
        }
        if !metricsAddress.isEmpty {
            if case .failure(let problem) = HTTPListenAddress.parse(metricsAddress) { try check(false, "metrics.address", problem.message) }
            try check(metricsAddress != httpAddress || metricsAddress.hasSuffix(":*") || metricsAddress.hasSuffix(":0"),
                      "metrics.address", "must differ from http.address (with the gateway on, /metrics is served there too)")
        }
        try atLeast(httpMaxBodyBytes, 1, "http.max_body_bytes")
        try atLeast(httpMaxConnections, 1, "http.max_connections")
        try atLeast(httpIdleTimeoutMs, 1, "http.idle_timeout_ms")
        try atLeast(httpHeaderTimeoutMs, 1, "http.header_timeout_ms")

        try check(!endpoints.isEmpty, "endpoint", "at least one [[endpoint]] is needed")
        var seen: [String: Int] = [:]
        for (index, endpoint) in endpoints.enumerated() {
            let key = "endpoint.\(index)"
            if let problem = Self.endpointProblem(endpoint.address) {
                try check(false, key + ".address", problem)
            }
            // A wildcard port (tcp://127.0.0.1:*) binds a port of its own each time: never a clash.
            let wildcardPort = endpoint.address.hasPrefix("tcp://") && endpoint.address.hasSuffix(":*")
            if !wildcardPort, let first = seen[endpoint.address] {
                try check(false, key + ".address", "\(endpoint.address) is also endpoint \(first)'s address")
            }
            seen[endpoint.address] = index
            try check(wildcardPort || endpoint.address != eventsEndpoint, key + ".address",
                      "\(endpoint.address) is also server.events_endpoint")
            try check(!endpoint.operations.isEmpty, key + ".operations", "lists no operation; the endpoint would refuse everything")
            if let unknown = endpoint.operations.first(where: { !Self.allOperations.contains($0) }) {
                try check(false, key + ".operations", "unknown operation \"\(unknown)\"; operations are \(Self.operationList)")
            }
        }

        try check(!models.isEmpty, "models", "at least one [models.NAME] table is needed")
        for model in models {
            let key = "models.\(model.name)"
            try check(Self.isValidModelName(model.name), key,
                      "a model name uses letters, digits, '.', '_' and '-' (found \"\(model.name)\")")
            try check(model.path.hasPrefix("/"), key + ".path", "must be an absolute path (found \"\(model.path)\")")
        }
        try check(models.contains { $0.name == defaultModel }, "models.default",
                  "\"\(defaultModel)\" is not one of the models (" + models.map(\.name).joined(separator: ", ")
                      + "); set models.default to one of them")

        _ = try curveKeys(source: source, lines: lines)
    }

    /// Reads and checks the key files when some endpoint uses curve.
    func curveKeys(source: String, lines: KeyLines) throws -> CurveKeys? {
        guard let index = endpoints.firstIndex(where: \.curve) else { return nil }
        func failure(_ code: ConfigurationError.Code, _ key: String, _ message: String) -> ConfigurationError {
            ConfigurationError(code, source: source, line: lines[key], key: key, message: message)
        }
        func read(_ path: String?, _ key: String) throws -> String {
            guard let path else {
                throw failure(.missingKey, key, "endpoint \(index) (\(endpoints[index].address)) has curve = true, "
                    + "so [curve] needs \(key.dropFirst("curve.".count))")
            }
            do {
                return try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw failure(.unreadableFile, key, "cannot read \(path): \(Self.reason(error))"
                    + " (under DynamicUser=, pass it with LoadCredential= and use $CREDENTIALS_DIRECTORY)")
            }
        }

        let secretText = try read(curveSecretKeyFile, "curve.secret_key_file")
        let secret = secretText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.isZ85Key(secret) else {
            throw failure(.invalidValue, "curve.secret_key_file",
                          "\(curveSecretKeyFile!) must hold one Z85 key of 40 characters (found \(secret.count) characters)")
        }

        let authorizedText = try read(curveAuthorizedKeysFile, "curve.authorized_keys_file")
        var keys: [String] = []
        for (number, line) in authorizedText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // `#` is a Z85 digit, so a comment is a line that starts with it, or text after the
            // key and whitespace — never a cut at the first `#`.
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let key = String(trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
            guard Self.isZ85Key(key) else {
                throw failure(.invalidValue, "curve.authorized_keys_file",
                              "\(curveAuthorizedKeysFile!) line \(number + 1): not a Z85 public key of 40 characters")
            }
            keys.append(key)
        }
        guard !keys.isEmpty else {
            throw failure(.invalidValue, "curve.authorized_keys_file",
                          "\(curveAuthorizedKeysFile!) lists no key, so no client could connect")
        }
        return CurveKeys(secretKey: secret, authorizedKeys: keys)
    }

    // MARK: Syntax

    static let z85Alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")

    static func isZ85Key(_ text: String) -> Bool {
        text.count == 40 && text.allSatisfy { z85Alphabet.contains($0) }
    }

    static func isValidModelName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
        }
    }

    /// Why an address cannot be bound, or nil when it looks right.
    /// tcp://HOST:PORT (HOST an address, a name, an interface or `*`; PORT 1–65535 or `*`),
    /// ipc://PATH (at most 107 bytes: the size of sun_path), inproc://NAME.
    static func endpointProblem(_ address: String) -> String? {
        if address.hasPrefix("tcp://") {
            let rest = address.dropFirst("tcp://".count)
            guard let colon = rest.lastIndex(of: ":") else {
                return "a tcp endpoint needs a port: tcp://HOST:PORT, e.g. tcp://127.0.0.1:5555 (found \"\(address)\")"
            }
            let host = rest[..<colon], port = rest[rest.index(after: colon)...]
            if host.isEmpty { return "a tcp endpoint needs a host (an address, a name or *) before the port (found \"\(address)\")" }
            if host.hasPrefix("[") != host.hasSuffix("]") { return "an IPv6 host is written in brackets, e.g. tcp://[::1]:5555" }
            if host.contains(where: { $0 == "/" || $0.isWhitespace }) { return "not a valid tcp host: \"\(host)\"" }
            if port != "*" {
                guard let number = Int(port), (1...65_535).contains(number) else {
                    return "the port must be 1–65535 or * (found \"\(port)\")"
                }
            }
            return nil
        }
        if address.hasPrefix("ipc://") {
            let path = address.dropFirst("ipc://".count)
            if path.isEmpty { return "an ipc endpoint needs a path: ipc:///run/bertd/bertd.sock" }
            if path.utf8.count > 107 { return "the ipc path is longer than 107 bytes, the limit of a unix socket address" }
            return nil
        }
        if address.hasPrefix("inproc://") {
            return address.count > "inproc://".count ? nil : "an inproc endpoint needs a name: inproc://NAME"
        }
        return "must start with tcp://, ipc:// or inproc:// (found \"\(address)\")"
    }
}
