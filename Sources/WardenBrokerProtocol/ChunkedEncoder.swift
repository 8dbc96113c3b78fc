/// The chunked transfer coding, writing side.
public enum ChunkedEncoder {
    /// One chunk holding `data`; empty data gives no bytes (never the terminator).
    public static func chunk(_ data: [UInt8]) -> [UInt8] {
        if data.isEmpty { return [] }
        return Array(String(data.count, radix: 16).utf8) + [13, 10] + data + [13, 10]
    }

    /// The last chunk and the empty trailer section.
    public static let end: [UInt8] = Array("0\r\n\r\n".utf8)
}
