/// The bounds `warden serve` holds every peer to, in one place (docs/serve.md lists them).
public enum ServeLimits {
    /// The largest request head (request line and headers) read, in bytes.
    public static let maxHeadBytes = 16 * 1024
    /// The largest request body read, in bytes (GitHub caps webhook payloads at 25 MB; the
    /// events Warden acts on are far smaller).
    public static let maxBodyBytes = 5 * 1024 * 1024
    /// Request body bytes held at once across all connections (a body past it gets 503).
    public static let maxHeldBodyBytes = 64 * 1024 * 1024
    /// How long a client may take to send a whole request.
    public static let requestTimeout: Duration = .seconds(10)
    /// Connections open at once; further ones are closed at accept.
    public static let maxConnections = 256
    /// Connections open at once from one address (a proxy in front counts as one peer).
    public static let maxConnectionsPerPeer = 64
    /// How long a client may take to send the request head.
    public static let headTimeout: Duration = .seconds(3)
    /// How far a generic webhook's timestamp may be from the server's clock, in seconds.
    public static let replayWindowSeconds: Int64 = 300
}
