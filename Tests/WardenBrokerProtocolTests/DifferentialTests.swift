import Testing
@testable import WardenBrokerProtocol
import WardenTestSupport

/// Randomized tests: generated valid requests parse to what was generated and survive
/// rebuild and re-parse unchanged; random mutations of valid messages never crash and,
/// when accepted, still satisfy the parser's invariants.
@Suite struct DifferentialTests {
    struct Generated {
        var method: String
        var path: String
        var query: String?
        var version: Int
        var host: String
        var headers: [(String, String)]
        var framing: BodyFraming
        var wire: [UInt8]
    }

    static func pick<T>(_ items: [T], _ generator: inout SeededRandom) -> T { items[Int.random(in: 0..<items.count, using: &generator)] }

    static func randomString(_ alphabet: String, _ range: ClosedRange<Int>, _ generator: inout SeededRandom) -> String {
        let characters = Array(alphabet)
        return String((0..<Int.random(in: range, using: &generator)).map { _ in pick(characters, &generator) })
    }

    static func generate(_ generator: inout SeededRandom) -> Generated {
        let method = pick(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"], &generator)
        let segmentAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,=:@"
        var path = ""
        for _ in 0..<Int.random(in: 0...6, using: &generator) {
            var segment = randomString(segmentAlphabet, 1...12, &generator)
            if segment.hasSuffix(".") { segment += "x" }
            if Bool.random(using: &generator) { segment += pick(["%3F", "%41", "%C3%A9", "%7E", "%40"], &generator) }
            path += "/" + segment
        }
        if path.isEmpty || Bool.random(using: &generator) { path += "/" }
        let query: String? = Bool.random(using: &generator) ? randomString("abc=&%20/?:@[]|{}", 0...20, &generator) : nil
        let version = Bool.random(using: &generator) ? 1 : 0
        let host = pick(["api.example.com", "127.0.0.1", "[::1]", "mirror.internal", "a-b.c_d.example"], &generator)
            + (Bool.random(using: &generator) ? ":\(Int.random(in: 1...65535, using: &generator))" : "")
        var headers: [(String, String)] = []
        for _ in 0..<Int.random(in: 0...12, using: &generator) {
            let name = randomString("abcdefghijklmnopqrstuvwxyzABCXYZ-!#$%&'*+.^_`|~0123456789", 1...16, &generator)
            let lower = HTTPSyntax.lowercasedASCII(name)
            if ["host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "http2-settings"].contains(lower)
                || HTTPFields.looksLikeFramingHeader(lower) || HTTPFields.hopByHop.contains(lower) || lower.hasPrefix("proxy-") { continue }
            var value = randomString("abc XYZ 0123 \t/;=\"é,", 0...30, &generator)
            value = String(String(value.drop(while: { $0 == " " || $0 == "\t" })).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
            headers.append((name, value))
        }
        headers.insert(("Host", host), at: Int.random(in: 0...headers.count, using: &generator))
        var framing = BodyFraming.none
        switch Int.random(in: 0...2, using: &generator) {
        case 1:
            let length = Int.random(in: 0...1_000_000, using: &generator)
            framing = .length(length)
            headers.append(("Content-Length", String(length)))
        case 2 where version == 1:
            framing = .chunked
            headers.append(("Transfer-Encoding", pick(["chunked", "Chunked", "CHUNKED"], &generator)))
        default: break
        }
        var text = "\(method) \(path)\(query.map { "?" + $0 } ?? "") HTTP/1.\(version)\r\n"
        for (name, value) in headers { text += "\(name):\(pick([" ", "", "\t", "  "], &generator))\(value)\r\n" }
        text += "\r\n"
        return Generated(method: method, path: path, query: query, version: version, host: host, headers: headers, framing: framing, wire: bytes(text))
    }

    @Test func generatedRequestsParseAndRoundTrip() throws {
        var generator = SeededRandom(seed: 0xB20C)
        for _ in 0..<2000 {
            let generated = Self.generate(&generator)
            let head = try RequestHead.parse(generated.wire)
            #expect(head.method == generated.method)
            #expect(head.path == generated.path)
            #expect(head.query == generated.query)
            #expect(head.version.minor == generated.version)
            #expect(head.framing == generated.framing)
            #expect(head.headers.map(\.name) == generated.headers.map(\.0))
            #expect(head.headers.map(\.value) == generated.headers.map(\.1))
            #expect(head.decodedPath == String(decoding: PercentDecoding.decodedLeniently(generated.path), as: UTF8.self))

            let rebuilt = head.serialized()
            let again = try RequestHead.parse(rebuilt)
            // Forwarded in the normalized form: unreserved escapes decoded, the same decoded path.
            let normalized = generated.path.replacing("%41", with: "A").replacing("%7E", with: "~")
            #expect(head.normalizedPath == normalized)
            #expect(again.path == normalized && again.normalizedPath == normalized)
            #expect(again.method == head.method && again.decodedPath == head.decodedPath && again.query == head.query)
            #expect(again.host == head.host && again.hostPort == head.hostPort && again.framing == head.framing)
            #expect(again.keepAlive == head.keepAlive)
            #expect(again.serialized() == rebuilt)
            var expected = "\(generated.method) \(normalized)\(generated.query.map { "?" + $0 } ?? "") HTTP/1.1\r\n"
            for (name, value) in generated.headers { expected += "\(name): \(value)\r\n" }
            if generated.version == 0 { expected += "Connection: close\r\n" }
            #expect(String(decoding: rebuilt, as: UTF8.self) == expected + "\r\n")
        }
    }

    @Test func generatedResponsesRoundTrip() throws {
        var generator = SeededRandom(seed: 0x0E5)
        for _ in 0..<1000 {
            let status = Self.pick([100, 103, 200, 201, 204, 206, 301, 304, 400, 401, 403, 404, 429, 500, 502, 599], &generator)
            let reason = Self.randomString("abcXYZ \t-", 0...12, &generator)
            let minor = Bool.random(using: &generator) ? 1 : 0
            var headers: [(String, String)] = []
            for _ in 0..<Int.random(in: 0...10, using: &generator) {
                let name = Self.pick(["Content-Type", "Set-Cookie", "X-Request-Id", "Cache-Control", "Date", "ETag", "Vary", "Server"], &generator)
                headers.append((name, Self.randomString("abc=; ,/0123\"", 0...25, &generator).trimmingOWSForTest()))
            }
            let method = Self.pick(["GET", "HEAD", "POST"], &generator)
            var expectedFraming = BodyFraming.untilClose
            switch Int.random(in: 0...2, using: &generator) {
            case 0:
                let length = Int.random(in: 0...100_000, using: &generator)
                headers.append(("Content-Length", String(length)))
                expectedFraming = .length(length)
            case 1 where minor == 1:
                headers.append(("Transfer-Encoding", "chunked"))
                expectedFraming = .chunked
            default: break
            }
            if method == "HEAD" || status < 200 || status == 204 || status == 304 { expectedFraming = .none }
            var text = "HTTP/1.\(minor) \(status) \(reason)\r\n"
            for (name, value) in headers { text += "\(name): \(value)\r\n" }
            let head = try ResponseHead.parse(bytes(text + "\r\n"), requestMethod: method)
            #expect(head.status == status)
            #expect(head.reason == reason)
            #expect(head.framing == expectedFraming)
            #expect(head.headers.map(\.name) == headers.map(\.0))
            let again = try ResponseHead.parse(head.serialized(), requestMethod: method)
            #expect(again.status == head.status && again.reason == head.reason && again.framing == head.framing)
            #expect(again.headers.map(\.value) == head.headers.map(\.value) + (head.keepAlive || head.isInterim ? [] : ["close"]))
        }
    }

    static let interesting: [UInt8] = [13, 10, 32, 9, 0, 58, 37, 46, 47, 92, 0x80, 0xFF, 44, 59, 0x7F, 0x0B, 48, 97]

    static func mutate(_ wire: [UInt8], _ generator: inout SeededRandom) -> [UInt8] {
        var bytes = wire
        for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0...4, using: &generator) {
            case 0: bytes[index] = pick(interesting, &generator)
            case 1: bytes.insert(pick(interesting, &generator), at: index)
            case 2: bytes.remove(at: index)
            case 3: bytes[index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
            default:
                let end = min(bytes.count, index + Int.random(in: 1...30, using: &generator))
                bytes.insert(contentsOf: bytes[index..<end], at: index)
            }
        }
        return bytes
    }

    @Test func mutatedRequestsNeverCrashAndKeepInvariants() {
        var generator = SeededRandom(seed: 0x5EED)
        var accepted = 0
        for _ in 0..<5000 {
            let wire = Self.mutate(Self.generate(&generator).wire, &generator)
            guard case .complete(let length) = scanForHeadEnd(wire, limit: HTTPLimits.maxHeadBytes) else { continue }
            guard let head = try? RequestHead.parse(Array(wire[..<length])) else { continue }
            accepted += 1
            let lowerNames = head.headers.map { HTTPSyntax.lowercasedASCII($0.name) }
            #expect(lowerNames.filter { $0 == "host" }.count == 1)
            #expect(lowerNames.filter { $0 == "content-length" }.count <= 1)
            #expect(!(lowerNames.contains("content-length") && lowerNames.contains("transfer-encoding")))
            #expect(!lowerNames.contains("upgrade"))
            #expect((try? PathSafety.check(head.path)) != nil)
            guard let again = try? RequestHead.parse(head.serialized()) else {
                Issue.record("rebuilt head refused: \(String(decoding: head.serialized(), as: UTF8.self).debugDescription)")
                continue
            }
            #expect(again.framing == head.framing && again.host == head.host && again.decodedPath == head.decodedPath)
            #expect(again.path == head.normalizedPath)
        }
        #expect(accepted > 100)
    }

    @Test func mutatedResponsesAndBodiesNeverCrash() {
        var generator = SeededRandom(seed: 0xFACE)
        let responses = [
            bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n"),
            bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"),
            bytes("HTTP/1.0 404 Not Found\r\n\r\n"),
        ]
        let chunked = bytes("5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX: y\r\n\r\n")
        let push = pkt(bytes("\(oidA) \(oidB) refs/heads/x") + [0] + bytes("report-status\n")) + bytes("0000")
        for _ in 0..<3000 {
            let wire = Self.mutate(Self.pick(responses, &generator), &generator)
            if let head = try? ResponseHead.parse(wire, requestMethod: "GET") {
                #expect((try? ResponseHead.parse(head.serialized(), requestMethod: "GET"))?.framing == head.framing)
            }
            var decoder = ChunkedDecoder(discardTrailers: Bool.random(using: &generator))
            let body = Self.mutate(chunked, &generator)
            if let result = try? decoder.feed(body[...]) { #expect(result.consumed <= body.count) }
            let pushBody = Self.mutate(push, &generator)
            if case .commands(let updates, let consumed) = parseReceivePackCommands(pushBody, limit: 4096) {
                #expect(consumed <= pushBody.count)
                #expect(updates.allSatisfy { RefNames.problem(with: $0.ref) == nil })
            }
            _ = try? PathSafety.decoded(String(decoding: Self.mutate(bytes("/a/b%20c/d"), &generator), as: UTF8.self))
        }
    }
}

extension String {
    func trimmingOWSForTest() -> String {
        String(String(drop(while: { $0 == " " || $0 == "\t" }).reversed()).drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
