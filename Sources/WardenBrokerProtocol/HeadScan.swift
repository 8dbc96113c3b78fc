/// The result of looking for the end of a message head.
public enum HeadScan: Sendable, Equatable {
    /// No end yet and still under the limit: read more bytes.
    case needMore
    /// The head is the first `headLength` bytes of the buffer. It ends at CRLF CRLF, or at the
    /// first bare LF (which the parsers then refuse: lines end with CRLF only).
    case complete(headLength: Int)
    /// The limit was reached without an end: answer 431.
    case tooLarge
}

/// Finds the end of a head (CRLF CRLF) in `bytes`, which hold the message from its first byte.
public func scanForHeadEnd(_ bytes: [UInt8], limit: Int) -> HeadScan {
    var scanner = HeadEndScanner(limit: limit)
    return scanner.scan(bytes)
}

/// Finds the end of a head (CRLF CRLF) in `bytes`, which hold the message from its first byte.
public func scanForHeadEnd(_ bytes: UnsafeRawBufferPointer, limit: Int) -> HeadScan {
    var scanner = HeadEndScanner(limit: limit)
    return scanner.scan(bytes)
}

/// A resumable head-end search: feed it the growing buffer of one message again and again;
/// it only examines bytes it has not seen, so a head that arrives one byte at a time costs
/// linear time in total.
public struct HeadEndScanner: Sendable {
    public let limit: Int
    /// How many leading bytes of the buffer have been examined already.
    public private(set) var examined: Int = 0

    public init(limit: Int = HTTPLimits.maxHeadBytes) {
        self.limit = limit
    }

    /// Forgets the progress (for the next message on the same connection).
    public mutating func reset() { examined = 0 }

    public mutating func scan(_ bytes: [UInt8]) -> HeadScan {
        bytes.withUnsafeBytes { scan($0) }
    }

    /// Scans `bytes` (the message from its first byte, a prefix of what was given before
    /// plus what arrived since) from where the previous call stopped.
    public mutating func scan(_ bytes: UnsafeRawBufferPointer) -> HeadScan {
        let end = min(bytes.count, limit)
        var index = max(0, min(examined, end))
        while index < end {
            if bytes[index] == HTTPSyntax.lf {
                guard index >= 1, bytes[index - 1] == HTTPSyntax.cr else {
                    examined = index + 1
                    return .complete(headLength: index + 1)
                }
                if index >= 3, bytes[index - 2] == HTTPSyntax.lf, bytes[index - 3] == HTTPSyntax.cr {
                    examined = index + 1
                    return .complete(headLength: index + 1)
                }
            }
            index += 1
        }
        examined = end
        return bytes.count >= limit ? .tooLarge : .needMore
    }
}
