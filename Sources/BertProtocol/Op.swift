/// The version of the wire protocol this build speaks. A request may carry `"v": 1`.
public let protocolVersion = 1

/// The operations (`op`) of the request endpoint.
public enum Op: String, Sendable, CaseIterable {
    case classify, embed, models, load, unload, status, ping

    /// Operations that change the daemon's state: by default only on the ipc (admin) endpoint.
    public var isAdmin: Bool { self == .load || self == .unload }

    /// Safe to send again after a timeout (Lazy Pirate retries only these).
    public var isIdempotent: Bool { self != .load && self != .unload }
}
