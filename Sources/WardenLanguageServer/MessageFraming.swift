/// Why the byte stream from the client cannot be read as LSP messages. The stream cannot
/// be resynchronised after any of these, so the server reports it and exits.
public enum FramingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The header block is longer than `MessageReader.maxHeaderBytes` without a blank line.
    case headerTooLong
    /// A header line that is not `Name: value`, or not ASCII.
    case malformedHeader(String)
    /// No `Content-Length` header, or one that is not a decimal number.
    case missingContentLength
    case invalidContentLength(String)
    /// A `Content-Length` above `MessageReader.maxContentLength`.
    case contentTooLarge(Int)
    /// The input ended inside a header or a body.
    case truncated

    public var description: String {
        switch self {
        case .headerTooLong: return "message header longer than \(MessageReader.maxHeaderBytes) bytes"
        case .malformedHeader(let line): return "malformed header line `\(line)`"
        case .missingContentLength: return "message header without Content-Length"
        case .invalidContentLength(let v): return "invalid Content-Length `\(v)`"
        case .contentTooLarge(let n): return "Content-Length \(n) is over the limit of \(MessageReader.maxContentLength) bytes"
        case .truncated: return "input ended inside a message"
        }
    }
}

/// What `MessageReader.next()` found.
public enum ReadResult: Sendable, Equatable {
    /// The body of one message (not yet parsed as JSON).
    case message([UInt8])
    /// The input ended cleanly between messages.
    case endOfInput
    case failed(FramingError)
}

/// Splits a byte stream into LSP base-protocol messages: a header block of
/// `Name: value\r\n` lines ended by an empty line, then `Content-Length` bytes of body.
/// Memory is bounded: a header block holds at most `maxHeaderBytes`, a body at most
/// `maxContentLength`, and the reader refuses a larger declared length before reading it.
public struct MessageReader {
    public static let maxHeaderBytes = 8192
    public static let maxContentLength = 8 << 20

    /// Returns the next chunk of input; an empty array at end of input (or on a read error).
    private let readChunk: () -> [UInt8]
    private var buffer: [UInt8] = []
    private var atEnd = false

    public init(readChunk: @escaping () -> [UInt8]) {
        self.readChunk = readChunk
    }

    /// A reader over a fixed byte string (tests).
    public init(bytes: [UInt8]) {
        var pending: [UInt8]? = bytes
        self.readChunk = {
            defer { pending = nil }
            return pending ?? []
        }
    }

    private mutating func fill() -> Bool {
        guard !atEnd else { return false }
        let chunk = readChunk()
        if chunk.isEmpty { atEnd = true; return false }
        buffer.append(contentsOf: chunk)
        return true
    }

    /// The next message, the end of input, or why the stream is broken.
    public mutating func next() -> ReadResult {
        // Header block: up to and including the first CRLF CRLF.
        var headerEnd: Int?
        var scanned = 0
        while headerEnd == nil {
            if let end = Self.findHeaderEnd(buffer, from: max(0, scanned - 3)) {
                headerEnd = end
                break
            }
            scanned = buffer.count
            if buffer.count > Self.maxHeaderBytes { return .failed(.headerTooLong) }
            if !fill() { return buffer.isEmpty ? .endOfInput : .failed(.truncated) }
        }
        guard let end = headerEnd else { return .failed(.truncated) }
        guard end <= Self.maxHeaderBytes else { return .failed(.headerTooLong) }
        let header = Array(buffer[0..<(end - 4)])
        buffer.removeFirst(end)
        let length: Int
        switch Self.contentLength(header) {
        case .success(let n): length = n
        case .failure(let e): return .failed(e)
        }
        while buffer.count < length {
            if !fill() { return .failed(.truncated) }
        }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return .message(body)
    }

    /// The offset just past the first `\r\n\r\n` at or after `from`.
    static func findHeaderEnd(_ bytes: [UInt8], from: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var i = from
        while i + 3 < bytes.count {
            if bytes[i] == 0x0D, bytes[i + 1] == 0x0A, bytes[i + 2] == 0x0D, bytes[i + 3] == 0x0A { return i + 4 }
            i += 1
        }
        return nil
    }

    /// The declared body length of a header block (without its final CRLF CRLF).
    static func contentLength(_ header: [UInt8]) -> Result<Int, FramingError> {
        var length: Int?
        for rawLine in split(header) {
            guard rawLine.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), let colon = rawLine.firstIndex(of: UInt8(ascii: ":")) else {
                return .failure(.malformedHeader(shownLine(rawLine)))
            }
            let name = String(decoding: rawLine[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: rawLine[(colon + 1)...], as: UTF8.self).trimmingSpaces
            guard name == "content-length" else { continue }
            guard !value.isEmpty, value.utf8.count <= 12, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(value) else {
                return .failure(.invalidContentLength(String(value.prefix(40))))
            }
            guard n <= maxContentLength else { return .failure(.contentTooLarge(n)) }
            length = n
        }
        guard let length else { return .failure(.missingContentLength) }
        return .success(length)
    }

    private static func split(_ header: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i + 1 < header.count {
            if header[i] == 0x0D, header[i + 1] == 0x0A {
                lines.append(header[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        lines.append(header[start...])
        return lines
    }

    /// At most 60 bytes of a header line, non-printable bytes as `\xNN`.
    private static func shownLine(_ line: ArraySlice<UInt8>) -> String {
        var out = ""
        for b in line.prefix(60) {
            if b >= 0x20, b < 0x7F { out.unicodeScalars.append(Unicode.Scalar(b)) } else { out += "\\x" + String(b, radix: 16) }
        }
        return line.count > 60 ? out + "…" : out
    }
}

/// Frames one message body for the client.
public enum MessageWriter {
    public static func frame(_ message: JSON) -> [UInt8] {
        let body = Array(message.serialized.utf8)
        return Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
