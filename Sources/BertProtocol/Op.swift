/// The version of the wire protocol this build speaks. A request may carry `"v": 1`.
public let protocolVersion = 1

/// The operations (`op`) of the request endpoint, in the order documentation lists them. The one
/// source of which operations exist, which are admin-only and which are safe to retry: the
/// server's configuration derives its lists from here, and a test holds the Python client's
/// `IDEMPOTENT_OPS` to `isIdempotent`.
public enum Op: String, Sendable, CaseIterable {
    case classify, embed, explain, models, status, ping, load, unload
    /// Training jobs: submit one, list them (or one), cancel one.
    case train, jobs, cancel

    /// Operations that change the daemon's state or read its files (training data paths):
    /// by default only on the ipc (admin) endpoint.
    public var isAdmin: Bool { [.load, .unload, .train, .jobs, .cancel].contains(self) }

    /// Safe to send again after a timeout (Lazy Pirate retries only these).
    public var isIdempotent: Bool { ![.load, .unload, .train, .cancel].contains(self) }

    /// What an endpoint serves unless configured otherwise: every operation that is not admin.
    public static var publicOperations: [Op] { allCases.filter { !$0.isAdmin } }
}
