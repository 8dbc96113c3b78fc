/// A response head from upstream, parsed with the request parser's strictness where it
/// decides framing, tolerant of harmless variations real servers send (`HTTP/1.1 200` with
/// no reason, an `Upgrade` advertisement on a non-101 response, header values that are not
/// UTF-8, whose bad bytes become U+FFFD). Refusals are 502.
public struct ResponseHead: Sendable {
    public var version: (major: Int, minor: Int)
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    /// How the body is delimited; `.none` for HEAD requests, 1xx, 204 and 304.
    public var framing: BodyFraming
    /// Whether the upstream connection may carry another request after this response.
    public var keepAlive: Bool
    public var connectionOptions: Set<String>

    /// A 1xx response (101 is refused at parse): another head follows it.
    public var isInterim: Bool { status >= 100 && status < 200 }

    /// The values of every header called `name` (any case), in order.
    public func values(of name: String) -> [String] {
        let lower = HTTPSyntax.lowercasedASCII(name)
        return headers.filter { HTTPSyntax.lowercasedASCII($0.name) == lower }.map(\.value)
    }

    /// Parses a complete head; `requestMethod` is the method of the request it answers.
    public static func parse(_ head: [UInt8], requestMethod: String) throws(HTTPRefusal) -> ResponseHead {
        return try head.withUnsafeBufferPointer { buffer throws(HTTPRefusal) in try parse(buffer, requestMethod: requestMethod) }
    }

    static func parse(_ head: UnsafeBufferPointer<UInt8>, requestMethod: String) throws(HTTPRefusal) -> ResponseHead {
        let lines = try HeadLines.split(head, status: 502)
        let statusLine = try parseStatusLine(ArraySlice(head[lines[0]]))
        let fieldLines = lines.dropFirst()
        if fieldLines.count > HTTPLimits.maxHeaderCount {
            throw HTTPRefusal(status: 502, reason: "upstream response has more than \(HTTPLimits.maxHeaderCount) headers")
        }
        var headers: [(name: String, value: String)] = []
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
        var connections: [String] = []
        // Refusal reasons say which header (by position), never its upstream-supplied name or value.
        for (position, fieldLine) in fieldLines.enumerated() {
            let field = try HeadLines.field(head, fieldLine, status: 502, repairingUTF8: true, label: "header \(position + 1)")
            switch field.lowercasedName ?? "" {
            case "content-length": contentLengths.append(field.value)
            case "transfer-encoding": transferEncodings.append(field.value)
            case "connection": connections.append(field.value)
            default: break
            }
            headers.append((field.name, field.value))
        }
        let status = statusLine.status
        if status == 101 { throw HTTPRefusal(status: 502, reason: "upstream switched protocols (101), which the broker never asks for") }
        let contentLength = try HTTPFields.contentLength(contentLengths, status: 502)
        let chunked = try HTTPFields.isChunked(transferEncodings, status: 502)
        if chunked && contentLength != nil {
            throw HTTPRefusal(status: 502, reason: "upstream response has both Content-Length and Transfer-Encoding")
        }
        if chunked && statusLine.version.minor == 0 {
            throw HTTPRefusal(status: 502, reason: "Transfer-Encoding on an HTTP/1.0 response")
        }
        let connection = try HTTPFields.connection(connections, status: 502)
        var keepAlive = statusLine.version.minor == 1 ? !connection.close : (connection.keepAlive && !connection.close)

        let framing: BodyFraming
        if requestMethod == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 {
            framing = .none
        } else if chunked {
            framing = .chunked
        } else if let contentLength {
            framing = .length(contentLength)
        } else {
            framing = .untilClose
            keepAlive = false
        }
        return ResponseHead(
            version: statusLine.version, status: status, reason: statusLine.reason, headers: headers,
            framing: framing, keepAlive: keepAlive, connectionOptions: connection.options)
    }

    /// Rebuilds the head as `HTTP/1.1 STATUS REASON` and the fields kept (same rules as
    /// ``RequestHead/serialized(setting:removing:)``).
    public func serialized(setting: [(name: String, value: String)] = [], removing: Set<String> = []) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(contentsOf: "HTTP/1.1 \(status) ".utf8)
        out.append(contentsOf: reason.utf8)
        out.append(contentsOf: [HTTPSyntax.cr, HTTPSyntax.lf])
        HTTPFields.appendSection(to: &out, headers: headers, connectionOptions: connectionOptions,
                                 keepAlive: keepAlive || isInterim, setting: setting, removing: removing)
        return out
    }

    static func parseStatusLine(_ line: ArraySlice<UInt8>) throws(HTTPRefusal) -> (version: (major: Int, minor: Int), status: Int, reason: String) {
        let bytes = Array(line)
        guard bytes.count >= 12, bytes[0..<7].elementsEqual("HTTP/1.".utf8), bytes[8] == HTTPSyntax.space,
              bytes[9...11].allSatisfy(HTTPSyntax.isDigit)
        else {
            throw HTTPRefusal(status: 502, reason: "upstream status line is not HTTP/1.x SP status")
        }
        let minor: Int
        switch bytes[7] {
        case UInt8(ascii: "0"): minor = 0
        case UInt8(ascii: "1"): minor = 1
        default: throw HTTPRefusal(status: 502, reason: "upstream answered with an HTTP version other than 1.0 and 1.1")
        }
        let status = bytes[9...11].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard status >= 100, status <= 599 else { throw HTTPRefusal(status: 502, reason: "upstream status code out of range") }
        var reason = ""
        if bytes.count > 12 {
            guard bytes[12] == HTTPSyntax.space else { throw HTTPRefusal(status: 502, reason: "upstream status line has junk after the status") }
            let reasonBytes = bytes[13...]
            guard reasonBytes.allSatisfy(HTTPSyntax.isFieldValueByte) else {
                throw HTTPRefusal(status: 502, reason: "control byte in the upstream reason phrase")
            }
            // A reason phrase carries no meaning; one that is not UTF-8 is dropped rather than refused.
            reason = HTTPSyntax.exactString(reasonBytes) ?? ""
        }
        return ((1, minor), status, reason)
    }
}
