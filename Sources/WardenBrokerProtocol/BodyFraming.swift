/// How a message's body is delimited on the wire (RFC 9112 section 6).
public enum BodyFraming: Sendable, Equatable {
    /// No body at all (requests without Content-Length/Transfer-Encoding; HEAD, 1xx, 204, 304 responses).
    case none
    /// Exactly this many bytes follow the head.
    case length(Int)
    /// `Transfer-Encoding: chunked`; decode with ``ChunkedDecoder``.
    case chunked
    /// The body runs until the server closes the connection (responses only).
    case untilClose
}
