/// A whole, bounded HTTP request as `warden serve`'s routes see it.
public struct ServeRequest: Sendable {
    public var method: String
    /// The path, without the query.
    public var path: String
    /// The query string (after `?`), undecoded; empty when none.
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The value of the header `name` (case-insensitive); nil when absent or given more than once.
    public func header(_ name: String) -> String? {
        let matches = headers.filter { $0.name.lowercased() == name.lowercased() }
        return matches.count == 1 ? matches[0].value : nil
    }

    /// The value of the query parameter `name` (no percent-decoding: the values Warden reads are
    /// numbers and ids).
    public func queryValue(_ name: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == name { return String(parts[1]) }
        }
        return nil
    }
}

/// A whole response; the server adds `Content-Length` and `Connection: close`. With `feed`,
/// a stream of server-sent events instead: the head is written, the connection stays open
/// and the feed writes to it.
public struct ServeResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(name: String, value: String)]
    public var feed: AuditFeed?

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// A plain-text response: `text` and a newline.
    public static func text(_ status: Int, _ text: String) -> ServeResponse {
        ServeResponse(status: status, body: Array((text + "\n").utf8))
    }

    /// The server-sent event stream of `feed`.
    public static func events(_ feed: AuditFeed) -> ServeResponse {
        var r = ServeResponse(status: 200, contentType: "text/event-stream", body: [])
        r.feed = feed
        return r
    }

    /// A JSON response (`text` is already JSON).
    public static func json(_ status: Int, _ text: String) -> ServeResponse {
        ServeResponse(status: status, contentType: "application/json", body: Array((text + "\n").utf8))
    }
}

/// What answers requests. Called on the server's handler threads, several requests at once;
/// may block briefly (an fsync, a database transaction), never for long.
public protocol ServeHandler: Sendable {
    func handle(_ request: ServeRequest) -> ServeResponse
}
