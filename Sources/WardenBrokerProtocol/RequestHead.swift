/// A request head parsed strictly (RFC 9112), refusing every ambiguity instead of guessing.
public struct RequestHead: Sendable {
    public var method: String
    /// The raw origin path as written (validated by ``PathSafety``), without the query.
    public var path: String
    /// The path percent-decoded; what rules match against (safe: `%2F`, `%5C`, `%00`, dot
    /// segments and control characters are refused before decoding).
    public var decodedPath: String
    /// The query as written (after `?`), if any.
    public var query: String?
    /// The absolute-form target's scheme (lowercased), host (lowercased) and port, if written.
    public var absoluteAuthority: (scheme: String, host: String, port: UInt16?)?
    public var version: (major: Int, minor: Int)
    /// Every header field, validated, in order, names as written.
    public var headers: [(name: String, value: String)]
    /// The single Host header's host, lowercased.
    public var host: String
    public var hostPort: UInt16?
    public var framing: BodyFraming
    public var keepAlive: Bool
    public var expectsContinue: Bool
    /// Lowercased header names listed in Connection (other than close/keep-alive); dropped when rebuilding.
    public var connectionOptions: Set<String>

    /// Parses a complete head (request line through the final CRLF CRLF).
    public static func parse(_ head: [UInt8]) throws(HTTPRefusal) -> RequestHead {
        throw HTTPRefusal(status: 501, reason: "unimplemented")
    }

    /// Rebuilds the head from the parsed parts only (origin-form target, HTTP/1.1, hop-by-hop
    /// headers dropped): headers named in `removing` (lowercased) or `setting` are dropped,
    /// then `setting` is appended in order.
    public func serialized(setting: [(name: String, value: String)] = [], removing: Set<String> = []) -> [UInt8] {
        []
    }
}
