/// The broker's fixed limits on message heads.
public enum HTTPLimits {
    /// The largest accepted head (request or response line, headers, final CRLF CRLF).
    public static let maxHeadBytes = 64 * 1024
    /// The largest accepted number of header fields in one head.
    public static let maxHeaderCount = 100
}
