/// An incremental, strict decoder of the chunked transfer coding.
public struct ChunkedDecoder: Sendable {
    /// The largest accepted chunk size.
    public static let maxChunkSize = 1 << 40

    public init(discardTrailers: Bool = false) {}

    /// Decodes as much of `bytes` as possible. `consumed` stops right after the final CRLF
    /// once `finished` (bytes after it belong to the next message).
    public mutating func feed(_ bytes: ArraySlice<UInt8>) throws(HTTPRefusal) -> (data: [UInt8], consumed: Int, finished: Bool) {
        throw HTTPRefusal(status: 501, reason: "unimplemented")
    }
}
