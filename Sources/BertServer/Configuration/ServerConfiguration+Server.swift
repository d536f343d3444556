import BertProtocol
import Foundation
import ZeroMQ

/// What the running server reads from the configuration, in the types it works with.
extension ServerConfiguration {
    var batchLimits: BatchLimits {
        BatchLimits(maxBatchTokens: maxBatchTokens, maxBatchRequests: maxBatchRequests, maxDelayMs: maxDelayMs,
                    maxQueueTokens: maxQueueTokens, maxQueueRequests: maxQueueRequests)
    }

    func curveSecretKey() throws -> String {
        guard let file = curveSecretKeyFile else { throw ServerError("curve.secret_key_file is required for a curve endpoint") }
        guard let key = try? String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              Curve.isValidKey(key)
        else { throw ServerError("curve.secret_key_file \(file) does not hold a Z85 secret key (40 characters)") }
        return key
    }

    func authorizedCurveKeys() throws -> Set<String> {
        guard let file = curveAuthorizedKeysFile else { return [] }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ServerError("cannot read curve.authorized_keys_file \(file)")
        }
        var keys = Set<String>()
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let key = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if key.isEmpty { continue }
            guard Curve.isValidKey(key) else { throw ServerError("\(file):\(n + 1): not a Z85 public key") }
            keys.insert(key)
        }
        return keys
    }
}

extension ServerConfiguration.Endpoint {
    func allows(_ operation: Op) -> Bool { operations.contains("*") || allows(operation.rawValue) }
}
