import Foundation
import HTTPTypes
import Hummingbird

/// The bearer tokens of one listener (`[http] tokens_file`, `admin_tokens_file`): one token per
/// line, `#` comments and blank lines ignored. Re-read on SIGHUP (`reload()`). Thread-safe.
final class BearerTokens: @unchecked Sendable {
    let file: String
    private let lock = NSLock()
    private var tokens: [[UInt8]] = []

    init(file: String) throws {
        self.file = file
        try reload()
    }

    /// Reads the file again; on an error the tokens in use stay.
    func reload() throws {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw GatewayError("cannot read the HTTP tokens file \(file): \(error.localizedDescription)")
        }
        let fresh = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            .map { Array($0.utf8) }
        guard !fresh.isEmpty else { throw GatewayError("the HTTP tokens file \(file) holds no token") }
        lock.lock()
        tokens = fresh
        lock.unlock()
    }

    /// Whether `candidate` is one of the tokens. Every token is compared in full, whatever
    /// matches, so the time taken says nothing about how much of a token was right.
    func accepts(_ candidate: Substring) -> Bool {
        lock.lock()
        let known = tokens
        lock.unlock()
        let bytes = Array(candidate.utf8)
        var matched: UInt8 = 1
        for token in known {
            var difference = UInt8(truncatingIfNeeded: token.count ^ bytes.count)
            for i in 0..<token.count { difference |= token[i] ^ (i < bytes.count ? bytes[i] : 0) }
            matched &= difference == 0 ? 0 : 1
        }
        return matched == 0
    }
}

/// Without a valid `Authorization: Bearer TOKEN`: 401 with `WWW-Authenticate: Bearer` and no
/// body, whatever the route (the health probes excepted: /healthz, /readyz, and the console's
/// static page and assets, which hold no data: the page asks for the token).
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let tokens: BearerTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The router ignores empty segments (//readyz, /healthz/): so does this check.
        let path = "/" + request.uri.path.split(separator: "/").joined(separator: "/")
        if path == "/healthz" || path == "/readyz" || GatewayRoutes.consolePaths.contains(path) {
            return try await next(request, context)
        }
        // The scheme name is case-insensitive (RFC 7235 §2.1).
        if let header = request.headers[.authorization], header.prefix(7).lowercased() == "bearer ",
           tokens.accepts(header.dropFirst("Bearer ".count)) {
            return try await next(request, context)
        }
        return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
    }
}

struct GatewayError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
