/// A request head parsed strictly (RFC 9112), refusing every ambiguity instead of guessing.
///
/// Decisions beyond the RFC (see docs/network.md, "What the broker refuses"):
/// - the request line is `METHOD SP target SP HTTP/1.1|HTTP/1.0` with single spaces; no
///   empty line before it; CONNECT is refused (501);
/// - targets: origin-form, or absolute-form `http(s)://host[:port]/path[?query]` whose
///   authority equals the Host header; authority-form, asterisk-form, userinfo and
///   fragments are refused;
/// - exactly one valid Host header, also on HTTP/1.0;
/// - a `Connection` header naming other headers makes them hop-by-hop: they are dropped
///   when the head is rebuilt (naming Host, Content-Length or Transfer-Encoding is refused);
/// - methods with lowercase letters are refused (some frameworks uppercase them);
/// - TRACE and TRACK are refused (405): they echo the request, injected credentials included;
/// - method and URL override headers (``HTTPFields/overrideHeaders``) are refused (400): a
///   server honouring them would run a method or path the rules did not decide.
public struct RequestHead: Sendable {
    public var method: String
    /// The raw origin path as written (validated by ``PathSafety``), without the query.
    public var path: String
    /// The path percent-decoded; what rules match against (safe: `%2F`, `%5C`, `%00`, `%25`,
    /// dot segments and control bytes are refused before decoding).
    public var decodedPath: String
    /// The path as forwarded (``PathSafety/normalized(_:)``): unreserved escapes decoded,
    /// other escapes in uppercase hex. Percent-decoding it gives exactly ``decodedPath``.
    public var normalizedPath: String
    /// The query as written (after `?`), if any.
    public var query: String?
    /// The absolute-form target's scheme (lowercased), host (lowercased) and port, if written.
    public var absoluteAuthority: (scheme: String, host: String, port: UInt16?)?
    public var version: (major: Int, minor: Int)
    /// Every header field, validated, in order, names as written.
    public var headers: [(name: String, value: String)]
    /// The single Host header's host, lowercased (IPv6 literals keep their brackets).
    public var host: String
    public var hostPort: UInt16?
    public var framing: BodyFraming
    /// Whether the client wants the connection kept after this exchange.
    public var keepAlive: Bool
    /// `Expect: 100-continue` on an HTTP/1.1 request.
    public var expectsContinue: Bool
    /// Lowercased header names listed in Connection (other than close/keep-alive); dropped when rebuilding.
    public var connectionOptions: Set<String>

    /// The values of every header called `name` (any case), in order.
    public func values(of name: String) -> [String] {
        let lower = HTTPSyntax.lowercasedASCII(name)
        return headers.filter { HTTPSyntax.lowercasedASCII($0.name) == lower }.map(\.value)
    }

    /// Whether the Host header names `name` (any case; no trailing dot) and, when it has a
    /// port, that port is `port`: the check that Host agrees with the TLS server name and
    /// the connected port. (An absolute-form target was already checked against Host.)
    public func hostMatches(_ name: String, port: UInt16) -> Bool {
        host == HTTPSyntax.lowercasedASCII(name) && (hostPort ?? port) == port
    }

    /// The origin-form target as the agent wrote it: the raw path and the query.
    public var originTarget: String { query.map { path + "?" + $0 } ?? path }

    /// The origin-form target as forwarded by ``serialized(setting:removing:)``: the
    /// normalized path (which decodes to the path rules decided on) and the query as written.
    public var normalizedTarget: String { query.map { normalizedPath + "?" + $0 } ?? normalizedPath }

    /// Parses a complete head (request line through the final CRLF CRLF).
    public static func parse(_ head: [UInt8]) throws(HTTPRefusal) -> RequestHead {
        return try head.withUnsafeBufferPointer { buffer throws(HTTPRefusal) in try parse(buffer) }
    }

    static func parse(_ head: UnsafeBufferPointer<UInt8>) throws(HTTPRefusal) -> RequestHead {
        let lines = try HeadLines.split(head, status: 400)
        let line = try RequestLine.parse(ArraySlice(head[lines[0]]))
        let fieldLines = lines.dropFirst()
        if fieldLines.count > HTTPLimits.maxHeaderCount {
            throw HTTPRefusal(status: 431, reason: "more than \(HTTPLimits.maxHeaderCount) headers")
        }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(fieldLines.count)
        var hosts: [String] = []
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
        var connections: [String] = []
        var expectations: [String] = []
        for fieldLine in fieldLines {
            let field = try HeadLines.field(head, fieldLine, status: 400)
            switch field.lowercasedName ?? "" {
            case "host": hosts.append(field.value)
            case "content-length": contentLengths.append(field.value)
            case "transfer-encoding": transferEncodings.append(field.value)
            case "connection": connections.append(field.value)
            case "expect": expectations.append(field.value)
            case "upgrade": throw HTTPRefusal(status: 501, reason: "Upgrade is not supported (no WebSocket or h2c through the broker)")
            case "http2-settings": throw HTTPRefusal(status: 501, reason: "HTTP2-Settings is not supported (no h2c through the broker)")
            case let other where HTTPFields.isOverrideHeader(other):
                throw HTTPRefusal(status: 400, reason: "header \(HTTPSyntax.shortened(field.name)) would let a server run another method or path than the one decided")
            case let other where HTTPFields.looksLikeFramingHeader(other):
                throw HTTPRefusal(status: 400, reason: "header \(HTTPSyntax.shortened(field.name)) imitates Host, Content-Length or Transfer-Encoding")
            default: break
            }
            headers.append((field.name, field.value))
        }

        guard hosts.count == 1, let hostValue = hosts.first else {
            throw HTTPRefusal(status: 400, reason: hosts.isEmpty ? "no Host header" : "more than one Host header")
        }
        guard let authority = Authority.parse(hostValue) else {
            throw HTTPRefusal(status: 400, reason: "Host header is not a valid host[:port]")
        }
        if let absolute = line.absoluteAuthority {
            let defaultPort: UInt16 = absolute.scheme == "https" ? 443 : 80
            guard absolute.host == authority.host, (absolute.port ?? defaultPort) == (authority.port ?? defaultPort) else {
                throw HTTPRefusal(status: 400, reason: "absolute-form target names another host than the Host header")
            }
        }

        let contentLength = try HTTPFields.contentLength(contentLengths, status: 400)
        let chunked = try HTTPFields.isChunked(transferEncodings, status: 400)
        if chunked && contentLength != nil {
            throw HTTPRefusal(status: 400, reason: "both Content-Length and Transfer-Encoding")
        }
        if chunked && line.version.minor == 0 {
            throw HTTPRefusal(status: 400, reason: "Transfer-Encoding on an HTTP/1.0 request")
        }
        let framing: BodyFraming = chunked ? .chunked : contentLength.map(BodyFraming.length) ?? .none

        let connection = try HTTPFields.connection(connections, status: 400)
        let keepAlive = line.version.minor == 1 ? !connection.close : (connection.keepAlive && !connection.close)

        if expectations.count > 1 { throw HTTPRefusal(status: 400, reason: "more than one Expect header") }
        var expectsContinue = false
        if let expectation = expectations.first {
            guard HTTPSyntax.lowercasedASCII(expectation) == "100-continue" else {
                throw HTTPRefusal(status: 417, reason: "Expect other than 100-continue")
            }
            expectsContinue = line.version.minor == 1
        }

        return RequestHead(
            method: line.method, path: line.path, decodedPath: line.decodedPath, normalizedPath: line.normalizedPath, query: line.query,
            absoluteAuthority: line.absoluteAuthority, version: line.version, headers: headers,
            host: authority.host, hostPort: authority.port, framing: framing, keepAlive: keepAlive,
            expectsContinue: expectsContinue, connectionOptions: connection.options)
    }

    /// Rebuilds the head from the parsed parts only: `METHOD SP normalized-target SP HTTP/1.1`
    /// (``normalizedTarget``: the path decided on, never the agent's spelling of it),
    /// the headers in order without hop-by-hop ones (``HTTPFields/hopByHop``, those named in
    /// Connection), without those named in `removing` (lowercased) or in `setting`; then
    /// `Connection: close` when the client does not keep the connection alive; then `setting`
    /// in order (entries with an invalid name or value are skipped).
    public func serialized(setting: [(name: String, value: String)] = [], removing: Set<String> = []) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        out.append(contentsOf: method.utf8)
        out.append(HTTPSyntax.space)
        out.append(contentsOf: normalizedTarget.utf8)
        out.append(contentsOf: " HTTP/1.1\r\n".utf8)
        // RFC 9110 10.1.1: a server ignores 100-continue from an HTTP/1.0 client, so it is not passed on.
        let dropped = version.minor == 0 ? removing.union(["expect"]) : removing
        HTTPFields.appendSection(to: &out, headers: headers, connectionOptions: connectionOptions,
                                 keepAlive: keepAlive, setting: setting, removing: dropped)
        return out
    }
}

/// The request line's parts.
struct RequestLine {
    var method: String
    var path: String
    var decodedPath: String
    var normalizedPath: String
    var query: String?
    var absoluteAuthority: (scheme: String, host: String, port: UInt16?)?
    var version: (major: Int, minor: Int)

    static func parse(_ line: ArraySlice<UInt8>) throws(HTTPRefusal) -> RequestLine {
        let parts = line.split(separator: HTTPSyntax.space, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
            throw HTTPRefusal(status: 400, reason: "request line is not METHOD SP target SP version (single spaces)")
        }
        guard HTTPSyntax.isToken(parts[0]) else { throw HTTPRefusal(status: 400, reason: "method is not a token") }
        let method = String(decoding: parts[0], as: UTF8.self)
        let version = try parseVersion(parts[2])
        if method == "CONNECT" { throw HTTPRefusal(status: 501, reason: "CONNECT is not supported: the broker is not a proxy") }
        if method.utf8.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) {
            // Methods are case-sensitive, but some frameworks uppercase them (Django): `delete`
            // would pass a `deny https DELETE` rule and run as DELETE.
            throw HTTPRefusal(status: 400, reason: "method with lowercase letters")
        }
        if method == "TRACE" || method == "TRACK" {
            throw HTTPRefusal(status: 405, reason: "\(method) is refused: it echoes the request, injected credentials included")
        }
        let target = parts[1]
        if let bad = target.first(where: { $0 < 0x21 || $0 > 0x7E }) {
            throw HTTPRefusal(status: 400, reason: "byte \(HTTPSyntax.describe(bad)) in the request target")
        }
        if target.contains(UInt8(ascii: "#")) { throw HTTPRefusal(status: 400, reason: "fragment (#) in the request target") }

        var originPart = target
        var absoluteAuthority: (scheme: String, host: String, port: UInt16?)?
        if target.first != UInt8(ascii: "/") {
            if target.elementsEqual([UInt8(ascii: "*")]) {
                throw HTTPRefusal(status: 400, reason: "asterisk-form target (*) is not supported")
            }
            let lower = HTTPSyntax.lowercasedASCII(String(decoding: target, as: UTF8.self))
            let scheme: String
            if lower.hasPrefix("http://") { scheme = "http" } else if lower.hasPrefix("https://") { scheme = "https" } else {
                throw HTTPRefusal(status: 400, reason: "request target is neither origin-form (/path) nor http(s)://host/path")
            }
            let afterScheme = target.dropFirst(scheme.utf8.count + 3)
            guard let slash = afterScheme.firstIndex(of: UInt8(ascii: "/")),
                  !afterScheme[afterScheme.startIndex..<slash].contains(UInt8(ascii: "?"))
            else {
                throw HTTPRefusal(status: 400, reason: "absolute-form target without a path")
            }
            let authorityBytes = afterScheme[afterScheme.startIndex..<slash]
            if authorityBytes.contains(UInt8(ascii: "@")) {
                throw HTTPRefusal(status: 400, reason: "user information (@) in the request target")
            }
            guard let authority = Authority.parse(authorityBytes) else {
                throw HTTPRefusal(status: 400, reason: "absolute-form target has an invalid host[:port]")
            }
            absoluteAuthority = (scheme, authority.host, authority.port)
            originPart = afterScheme[slash...]
        }
        let pathBytes: ArraySlice<UInt8>
        var query: String?
        if let mark = originPart.firstIndex(of: UInt8(ascii: "?")) {
            pathBytes = originPart[originPart.startIndex..<mark]
            query = String(decoding: originPart[(mark + 1)...], as: UTF8.self)
        } else {
            pathBytes = originPart
        }
        let forms = try PathSafety.forms(pathBytes)
        return RequestLine(
            method: method, path: String(decoding: pathBytes, as: UTF8.self), decodedPath: forms.decoded,
            normalizedPath: forms.normalized,
            query: query, absoluteAuthority: absoluteAuthority, version: version)
    }

    static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPRefusal) -> (major: Int, minor: Int) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch text {
        case "HTTP/1.1": return (1, 1)
        case "HTTP/1.0": return (1, 0)
        default:
            let shape = Array(bytes)
            if shape.count == 8, text.hasPrefix("HTTP/"), HTTPSyntax.isDigit(shape[5]), shape[6] == UInt8(ascii: "."), HTTPSyntax.isDigit(shape[7]) {
                throw HTTPRefusal(status: 505, reason: "HTTP version other than 1.0 and 1.1")
            }
            throw HTTPRefusal(status: 400, reason: "request line does not end with HTTP/1.1 or HTTP/1.0")
        }
    }
}
