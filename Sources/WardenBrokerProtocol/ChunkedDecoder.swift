/// An incremental, strict decoder of the chunked transfer coding (RFC 9112 section 7.1).
///
/// Refused (400; 413 for a chunk larger than ``maxChunkSize``): a size that is empty, has
/// more than 16 hex digits, or any byte other than hex digits before its CRLF (so no
/// whitespace and no chunk extensions); anything but CRLF after a chunk's data; bare CR or
/// LF. Trailer fields are refused unless the decoder was made with `discardTrailers` (for
/// responses), in which case they are checked for control bytes, bounded to 16 KiB, and dropped.
public struct ChunkedDecoder: Sendable {
    /// The largest accepted chunk size (1 TiB: sizes only bound arithmetic, nothing is buffered).
    public static let maxChunkSize = 1 << 40
    /// The largest accepted trailer section when trailers are discarded.
    public static let maxTrailerBytes = 16 * 1024

    enum State: Sendable, Equatable {
        case size(digits: Int, value: Int)
        case sizeLF(value: Int)
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailerStart
        case trailerLine
        case trailerLineLF
        case finalLF
        case finished
    }

    private var state = State.size(digits: 0, value: 0)
    private let discardTrailers: Bool
    private var trailerBytes = 0

    public init(discardTrailers: Bool = false) {
        self.discardTrailers = discardTrailers
    }

    /// Whether the last chunk and the trailer section have been read.
    public var isFinished: Bool { state == .finished }

    /// Decodes as much of `bytes` as possible and returns the payload bytes found. `consumed`
    /// stops right after the final CRLF once `finished` (bytes after it belong to the next
    /// message); otherwise it is all of `bytes`. After a refusal the decoder must not be fed again.
    public mutating func feed(_ bytes: ArraySlice<UInt8>) throws(HTTPRefusal) -> (data: [UInt8], consumed: Int, finished: Bool) {
        var data: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch state {
            case .finished:
                return (data, index - bytes.startIndex, true)
            case .size(let digits, let value):
                if let digit = HTTPSyntax.hexValue(byte) {
                    guard digits < 16 else { throw Self.refusal("chunk size has more than 16 hex digits") }
                    guard value <= (Self.maxChunkSize - digit) / 16 else {
                        throw HTTPRefusal(status: 413, reason: "chunk larger than \(Self.maxChunkSize) bytes")
                    }
                    state = .size(digits: digits + 1, value: value * 16 + digit)
                } else if byte == HTTPSyntax.cr {
                    guard digits > 0 else { throw Self.refusal("empty chunk size") }
                    state = .sizeLF(value: value)
                } else if byte == UInt8(ascii: ";") {
                    throw Self.refusal("chunk extensions are refused")
                } else {
                    throw Self.refusal("byte \(HTTPSyntax.describe(byte)) in a chunk size")
                }
                index += 1
            case .sizeLF(let value):
                guard byte == HTTPSyntax.lf else { throw Self.refusal("chunk size line does not end with CRLF") }
                state = value == 0 ? .trailerStart : .data(remaining: value)
                index += 1
            case .data(let remaining):
                let take = min(remaining, bytes.endIndex - index)
                data.append(contentsOf: bytes[index..<(index + take)])
                index += take
                state = remaining == take ? .dataCR : .data(remaining: remaining - take)
            case .dataCR:
                guard byte == HTTPSyntax.cr else { throw Self.refusal("chunk data longer than its size (no CRLF after it)") }
                state = .dataLF
                index += 1
            case .dataLF:
                guard byte == HTTPSyntax.lf else { throw Self.refusal("chunk data not followed by CRLF") }
                state = .size(digits: 0, value: 0)
                index += 1
            case .trailerStart:
                if byte == HTTPSyntax.cr {
                    state = .finalLF
                    index += 1
                } else if discardTrailers {
                    guard byte != HTTPSyntax.space && byte != HTTPSyntax.tab && byte != HTTPSyntax.lf else {
                        throw Self.refusal("malformed trailer section")
                    }
                    state = .trailerLine
                } else {
                    throw Self.refusal("trailer fields after the last chunk are refused")
                }
            case .trailerLine:
                trailerBytes += 1
                guard trailerBytes <= Self.maxTrailerBytes else { throw Self.refusal("trailer section larger than \(Self.maxTrailerBytes) bytes") }
                if byte == HTTPSyntax.cr {
                    state = .trailerLineLF
                } else if !HTTPSyntax.isFieldValueByte(byte) {
                    throw Self.refusal("control byte in a trailer field")
                }
                index += 1
            case .trailerLineLF:
                guard byte == HTTPSyntax.lf else { throw Self.refusal("bare CR in a trailer field") }
                state = .trailerStart
                index += 1
            case .finalLF:
                guard byte == HTTPSyntax.lf else { throw Self.refusal("last chunk not followed by CRLF") }
                state = .finished
                index += 1
                return (data, index - bytes.startIndex, true)
            }
        }
        return (data, index - bytes.startIndex, state == .finished)
    }

    static func refusal(_ reason: String) -> HTTPRefusal { HTTPRefusal(status: 400, reason: reason) }
}
