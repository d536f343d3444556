// The effective configuration as bertd.toml text — what `bertd --check-config` can print, with
// every default filled in and every variable expanded. Parsing the text gives the same value.

import BertCore
import BertProtocol

extension ServerConfiguration {
    /// Operation names in the order the documentation lists them.
    static let orderedOperations = Op.allCases.map(\.rawValue)

    public var tomlText: String {
        var lines: [String] = []
        lines.append("[server]")
        lines.append("threads = \(threads)")
        lines.append("state_directory = \(Self.quoted(stateDirectory))")
        lines.append("log_level = \(Self.quoted(logLevel.name))")
        lines.append("shutdown_grace_ms = \(shutdownGraceMs)")
        lines.append("max_message_bytes = \(maxMessageBytes)")
        lines.append("max_texts_per_request = \(maxTextsPerRequest)")
        lines.append("max_text_bytes = \(maxTextBytes)")
        lines.append("events_endpoint = \(Self.quoted(eventsEndpoint))")
        lines.append("status_interval_ms = \(statusIntervalMs)")
        for endpoint in endpoints {
            let known = Self.orderedOperations.filter(endpoint.operations.contains)
            let names = known + endpoint.operations.subtracting(known).sorted()
            lines.append("")
            lines.append("[[endpoint]]")
            lines.append("address = \(Self.quoted(endpoint.address))")
            lines.append("operations = [" + names.map(Self.quoted).joined(separator: ", ") + "]")
            lines.append("curve = \(endpoint.curve)")
        }
        lines.append("")
        lines.append("[batching]")
        lines.append("max_batch_tokens = \(maxBatchTokens)")
        lines.append("max_batch_requests = \(maxBatchRequests)")
        lines.append("max_delay_ms = \(maxDelayMs)")
        lines.append("max_queue_tokens = \(maxQueueTokens)")
        lines.append("max_queue_requests = \(maxQueueRequests)")
        lines.append("")
        lines.append("[models]")
        lines.append("default = \(Self.quoted(defaultModel))")
        for model in models {
            lines.append("[models.\(Self.key(model.name))]")
            lines.append("path = \(Self.quoted(model.path))")
            if model.precision != .fp32 { lines.append("precision = \(Self.quoted(model.precision.rawValue))") }
            if model.force { lines.append("force = true") }
            if let d = model.longDocuments {
                if let window = d.window { lines.append("window = \(window)") }
                if let stride = d.stride { lines.append("stride = \(stride)") }
                if let aggregate = d.aggregate { lines.append("aggregate = \(Self.quoted(aggregate))") }
            }
        }
        lines.append("")
        lines.append("[http]")
        lines.append("address = \(Self.quoted(httpAddress))")
        lines.append("admin_address = \(Self.quoted(httpAdminAddress))")
        lines.append("max_body_bytes = \(httpMaxBodyBytes)")
        lines.append("max_connections = \(httpMaxConnections)")
        lines.append("idle_timeout_ms = \(httpIdleTimeoutMs)")
        lines.append("header_timeout_ms = \(httpHeaderTimeoutMs)")
        if let file = httpTokensFile { lines.append("tokens_file = \(Self.quoted(file))") }
        if let file = httpAdminTokensFile { lines.append("admin_tokens_file = \(Self.quoted(file))") }
        lines.append("")
        lines.append("[metrics]")
        lines.append("address = \(Self.quoted(metricsAddress))")
        if curveSecretKeyFile != nil || curveAuthorizedKeysFile != nil {
            lines.append("")
            lines.append("[curve]")
            if let file = curveSecretKeyFile { lines.append("secret_key_file = \(Self.quoted(file))") }
            if let file = curveAuthorizedKeysFile { lines.append("authorized_keys_file = \(Self.quoted(file))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A bare key when it can be one, else a quoted key.
    static func key(_ name: String) -> String {
        let bare = !name.isEmpty && name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
        }
        return bare ? name : quoted(name)
    }

    /// A TOML basic string.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
