import HTTPTypes
import Hummingbird

/// The methods each of a listener's routes takes, so that a known path asked with another method
/// gets 405 Method Not Allowed with an `Allow` header (RFC 9110 §15.5.6) rather than 404. Filled
/// once, when the router's routes are all added and before the listener serves (hence unchecked
/// Sendable: read-only afterwards); read by `ErrorMiddleware` for requests no route matched.
final class RouteMethods: @unchecked Sendable {
    private var routes: [Router<GatewayContext>.RouteDescription] = []

    func record(_ routes: [Router<GatewayContext>.RouteDescription]) { self.routes = routes }

    /// The methods of the routes whose pattern matches `path`, sorted; empty for an unknown path.
    func allowed(path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let methods = routes.filter { route in
            let pattern = route.path.components
            return pattern.count == parts.count && zip(pattern, parts).allSatisfy { $0 ~= $1 }
        }.map(\.method.rawValue)
        return Set(methods).sorted()
    }
}
