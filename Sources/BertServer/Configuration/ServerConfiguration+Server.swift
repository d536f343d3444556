import BertProtocol
import Foundation
import ZeroMQ

/// What the running server reads from the configuration, in the types it works with.
extension ServerConfiguration {
    var batchLimits: BatchLimits {
        BatchLimits(maxBatchTokens: maxBatchTokens, maxBatchRequests: maxBatchRequests, maxDelayMs: maxDelayMs,
                    maxQueueTokens: maxQueueTokens, maxQueueRequests: maxQueueRequests)
    }

    /// The CURVE secret key and the authorized client keys, as validation read them.
    func curveSecretKey() throws -> String {
        guard let keys = try curveKeys(source: "configuration", lines: KeyLines()) else {
            throw ServerError("no endpoint uses curve")
        }
        return keys.secretKey
    }

    func authorizedCurveKeys() throws -> Set<String> {
        Set(try curveKeys(source: "configuration", lines: KeyLines())?.authorizedKeys ?? [])
    }
}

extension ServerConfiguration.Endpoint {
    func allows(_ operation: Op) -> Bool { operations.contains("*") || allows(operation.rawValue) }
}
