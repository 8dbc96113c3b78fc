/// Splits a complete head into its lines and parses field lines, strictly. Works on raw
/// buffers with plain loops: heads are parsed on every request, also in debug builds.
enum HeadLines {
    /// The byte ranges of the lines of `head` (start line first) without their CRLF. The head
    /// must end with CRLF CRLF and contain no other empty line; a CR not followed by LF, an LF
    /// not preceded by CR, and NUL are refused with `status`.
    static func split(_ head: UnsafeBufferPointer<UInt8>, status: Int) throws(HTTPRefusal) -> [Range<Int>] {
        if head.count > HTTPLimits.maxHeadBytes {
            throw HTTPRefusal(status: status == 400 ? 431 : status, reason: "head is larger than \(HTTPLimits.maxHeadBytes) bytes")
        }
        let count = head.count
        guard let base = head.baseAddress, count > 0 else {
            throw HTTPRefusal(status: status, reason: "head does not end with CRLF CRLF")
        }
        var lines: [Range<Int>] = []
        lines.reserveCapacity(32)
        var lineStart = 0
        var index = 0
        // Literals, not HTTPSyntax constants: this loop runs for every byte of every head.
        while index < count {
            let byte = base[index]
            if byte > 13 {
                index += 1
                continue
            }
            if byte == 13 {
                guard index + 1 < count, base[index + 1] == 10 else {
                    throw HTTPRefusal(status: status, reason: "bare CR: lines must end with CRLF")
                }
                lines.append(lineStart..<index)
                index += 2
                lineStart = index
                continue
            }
            if byte == 10 { throw HTTPRefusal(status: status, reason: "bare LF: lines must end with CRLF") }
            if byte == 0 { throw HTTPRefusal(status: status, reason: "NUL byte in head") }
            index += 1
        }
        guard lineStart == count, let last = lines.last, last.isEmpty, lines.count >= 2 else {
            throw HTTPRefusal(status: status, reason: "head does not end with CRLF CRLF")
        }
        lines.removeLast()
        if lines[0].isEmpty { throw HTTPRefusal(status: status, reason: "empty line before the start line") }
        for line in lines.dropFirst() where line.isEmpty {
            throw HTTPRefusal(status: status, reason: "bytes after the end of the head")
        }
        return lines
    }

    /// Parses one field line: a token name, a colon right after it, a value without control
    /// bytes (obs-text must be UTF-8). Also returns the name lowercased when the parsers may
    /// care about it: its length is that of a header they interpret, or it holds `_`
    /// (nil otherwise, which saves an allocation per header).
    /// With `repairingUTF8` (responses), obs-text that is not UTF-8 (a Latin-1 file name in
    /// Content-Disposition, say) becomes U+FFFD instead of a refusal.
    static func field(_ head: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, status: Int, repairingUTF8: Bool = false) throws(HTTPRefusal)
        -> (name: String, value: String, lowercasedName: String?)
    {
        let first = head[line.lowerBound]
        if first == HTTPSyntax.space || first == HTTPSyntax.tab {
            throw HTTPRefusal(status: status, reason: "obsolete line folding (a header line starting with whitespace)")
        }
        let base = head.baseAddress!
        var colon = line.lowerBound
        var hasUnderscore = false
        while colon < line.upperBound {
            let byte = base[colon]
            if byte == 58 { break }
            guard HTTPSyntax.isTokenByte(byte) else {
                if byte == 32 || byte == 9 {
                    var next = colon
                    while next < line.upperBound, base[next] == 32 || base[next] == 9 { next += 1 }
                    if next < line.upperBound, base[next] == 58 {
                        throw HTTPRefusal(status: status, reason: "whitespace between a header name and its colon")
                    }
                }
                throw HTTPRefusal(status: status, reason: "header name is not a token (\(HTTPSyntax.describe(byte)))")
            }
            if byte == 95 { hasUnderscore = true }
            colon += 1
        }
        guard colon < line.upperBound else { throw HTTPRefusal(status: status, reason: "header line without a colon") }
        guard colon > line.lowerBound else { throw HTTPRefusal(status: status, reason: "header line without a name") }
        let name = String(decoding: UnsafeBufferPointer(rebasing: head[line.lowerBound..<colon]), as: UTF8.self)

        var valueStart = colon + 1
        var valueEnd = line.upperBound
        while valueStart < valueEnd, base[valueStart] == 32 || base[valueStart] == 9 { valueStart += 1 }
        while valueEnd > valueStart, base[valueEnd - 1] == 32 || base[valueEnd - 1] == 9 { valueEnd -= 1 }
        var asciiOnly = true
        var index = valueStart
        while index < valueEnd {
            let byte = base[index]
            if byte >= 0x20 && byte < 0x7F {
                index += 1
                continue
            }
            if byte >= 0x80 {
                asciiOnly = false
            } else if byte != 9 {
                throw HTTPRefusal(status: status, reason: "control byte \(HTTPSyntax.describe(byte)) in the value of header \(HTTPSyntax.shortened(name))")
            }
            index += 1
        }
        let valueBytes = UnsafeBufferPointer(rebasing: head[valueStart..<valueEnd])
        let value: String
        if asciiOnly || repairingUTF8 {
            value = String(decoding: valueBytes, as: UTF8.self)
        } else {
            guard let exact = HTTPSyntax.exactString(valueBytes) else {
                throw HTTPRefusal(status: status, reason: "the value of header \(HTTPSyntax.shortened(name)) is not valid UTF-8")
            }
            value = exact
        }
        let nameLength = colon - line.lowerBound
        guard hasUnderscore || isInterpretedNameLength(nameLength) else { return (name, value, nil) }
        var lowered = [UInt8](repeating: 0, count: nameLength)
        for offset in 0..<nameLength {
            let byte = base[line.lowerBound + offset]
            lowered[offset] = byte >= 65 && byte <= 90 ? byte + 32 : byte
        }
        return (name, value, String(decoding: lowered, as: UTF8.self))
    }

    /// Lengths of the names parsers interpret: host, expect, upgrade, connection,
    /// content-length, http2-settings, transfer-encoding, and the override headers
    /// (x-http-method and x-rewrite-url 13, x-original-url 14, x-method-override and
    /// x-original-method 17, x-http-method-override 22).
    private static func isInterpretedNameLength(_ length: Int) -> Bool {
        length == 4 || length == 6 || length == 7 || length == 10 || length == 13 || length == 14 || length == 17 || length == 22
    }
}
