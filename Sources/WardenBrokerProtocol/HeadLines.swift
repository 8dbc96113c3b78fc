/// Splits a complete head into its lines and parses field lines, strictly.
enum HeadLines {
    /// The lines of `head` (start line first) without their CRLF. The head must end with
    /// CRLF CRLF and contain no other empty line; a CR not followed by LF, an LF not preceded
    /// by CR, and NUL are refused with `status`.
    static func split(_ head: [UInt8], status: Int) throws(HTTPRefusal) -> [ArraySlice<UInt8>] {
        if head.count > HTTPLimits.maxHeadBytes {
            throw HTTPRefusal(status: status == 400 ? 431 : status, reason: "head is larger than \(HTTPLimits.maxHeadBytes) bytes")
        }
        let count = head.count
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = 0
        var index = 0
        while index < count {
            let byte = head[index]
            if byte == HTTPSyntax.cr {
                guard index + 1 < count, head[index + 1] == HTTPSyntax.lf else {
                    throw HTTPRefusal(status: status, reason: "bare CR: lines must end with CRLF")
                }
                lines.append(head[lineStart..<index])
                index += 2
                lineStart = index
                continue
            }
            if byte == HTTPSyntax.lf { throw HTTPRefusal(status: status, reason: "bare LF: lines must end with CRLF") }
            if byte == 0 { throw HTTPRefusal(status: status, reason: "NUL byte in head") }
            index += 1
        }
        guard lineStart == count, let last = lines.last, last.isEmpty, lines.count >= 2 else {
            throw HTTPRefusal(status: status, reason: "head does not end with CRLF CRLF")
        }
        lines.removeLast()
        guard let first = lines.first, !first.isEmpty else {
            throw HTTPRefusal(status: status, reason: "empty line before the start line")
        }
        if lines.dropFirst().contains(where: { $0.isEmpty }) {
            throw HTTPRefusal(status: status, reason: "bytes after the end of the head")
        }
        return lines
    }

    /// Parses one field line: a token name, a colon right after it, a value without control bytes.
    static func field(_ line: ArraySlice<UInt8>, status: Int) throws(HTTPRefusal) -> (name: String, value: String) {
        guard let first = line.first else { throw HTTPRefusal(status: status, reason: "empty header line") }
        if first == HTTPSyntax.space || first == HTTPSyntax.tab {
            throw HTTPRefusal(status: status, reason: "obsolete line folding (a header line starting with whitespace)")
        }
        guard let colon = line.firstIndex(of: HTTPSyntax.colon) else {
            throw HTTPRefusal(status: status, reason: "header line without a colon")
        }
        let nameBytes = line[line.startIndex..<colon]
        if let last = nameBytes.last, last == HTTPSyntax.space || last == HTTPSyntax.tab {
            throw HTTPRefusal(status: status, reason: "whitespace between a header name and its colon")
        }
        guard HTTPSyntax.isToken(nameBytes) else {
            let bad = nameBytes.first(where: { !HTTPSyntax.isTokenByte($0) }).map(HTTPSyntax.describe) ?? "nothing"
            throw HTTPRefusal(status: status, reason: "header name is not a token (\(bad))")
        }
        let valueBytes = HTTPSyntax.trimmingOWS(line[(colon + 1)...])
        if let bad = valueBytes.first(where: { !HTTPSyntax.isFieldValueByte($0) }) {
            throw HTTPRefusal(status: status, reason: "control byte \(HTTPSyntax.describe(bad)) in the value of header \(String(decoding: nameBytes, as: UTF8.self))")
        }
        guard let value = HTTPSyntax.exactString(valueBytes) else {
            throw HTTPRefusal(status: status, reason: "the value of header \(String(decoding: nameBytes, as: UTF8.self)) is not valid UTF-8")
        }
        return (String(decoding: nameBytes, as: UTF8.self), value)
    }
}
