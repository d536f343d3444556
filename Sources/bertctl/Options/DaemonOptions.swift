import ArgumentParser
import BertProtocol
import Foundation
import ZeroMQ

/// How to reach bertd. Exit status: 0 done, 1 bad arguments or local failure, 3 bertd did not
/// answer in time, 4 bertd answered with an error (its code is printed).
struct DaemonOptions: ParsableArguments {
    @Option(help: "bertd's endpoint (default: $BERTD_ENDPOINT, else ipc:///run/bertd/bertd.sock if present, else tcp://127.0.0.1:5555).")
    var endpoint: String?

    @Option(help: "Milliseconds to wait for each attempt.")
    var timeout = 5000

    @Option(help: "Retries after a timeout (idempotent operations only).")
    var retries = 2

    @Option(help: "CURVE: the server's public key (Z85); with --curve-key-file, talk encrypted.")
    var serverKey: String?

    @Option(help: "CURVE: a file with this client's secret key (Z85, 40 characters).")
    var curveKeyFile: String?

    func validate() throws {
        if timeout < 1 { throw ValidationError("--timeout must be at least 1 ms") }
        if retries < 0 { throw ValidationError("--retries must not be negative") }
        if (serverKey == nil) != (curveKeyFile == nil) { throw ValidationError("--server-key and --curve-key-file go together") }
    }

    func client() throws -> DaemonClient {
        var curve: (String, String, String)?
        if let serverKey, let curveKeyFile {
            guard let secret = try? String(contentsOfFile: curveKeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else {
                throw CommandFailure(description: "cannot read \(curveKeyFile)")
            }
            curve = (serverKey, try Curve.publicKey(secret: secret), secret)
        }
        return try DaemonClient(endpoint: DaemonClient.resolveEndpoint(endpoint), timeoutMs: timeout, retries: retries, curve: curve)
    }

    /// Runs one call, mapping failures to the documented exit statuses.
    func call(_ request: Request) throws -> [String: Any] {
        do {
            return try client().call(request)
        } catch let failure as DaemonClient.Failure {
            FileHandle.standardError.write(Data("Error: \(failure.description)\n".utf8))
            switch failure {
            case .unreachable: throw ExitCode(3)
            case .replied, .malformedReply: throw ExitCode(4)
            }
        }
    }

    static func newRequest(_ operation: Request.Operation) -> Request {
        Request(id: .string(String(UInt64.random(in: 0...UInt64.max), radix: 36)), operation)
    }
}
