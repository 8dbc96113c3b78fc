import Testing
@testable import WardenBrokerProtocol
import WardenTestSupport

/// PlaceholderScanner as the response scanner for secret values: long tokens, many tokens,
/// tokens sharing prefixes or overlapping, and linear time.
@Suite struct SecretScanningTests {
    /// Feeds `stream` in pieces of `piece` bytes; returns the released bytes and the first token found.
    static func scan(_ tokens: [[UInt8]], _ stream: [UInt8], piece: Int) -> (released: [UInt8], found: Int?) {
        var scanner = PlaceholderScanner(tokens: tokens)
        var released: [UInt8] = []
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + piece)
            let result = scanner.feed(Array(stream[offset..<end]))
            released += result.forward
            if let found = result.found { return (released, found) }
            offset = end
        }
        return (released + scanner.finish(), nil)
    }

    static func randomToken(_ length: Int, _ generator: inout SeededRandom) -> [UInt8] {
        (0..<length).map { _ in UInt8.random(in: 0x21...0x7E, using: &generator) }
    }

    /// No released prefix of the stream ever contains a whole token or ends inside one.
    static func releasesNoTokenByte(_ released: [UInt8], tokenAt start: Int) -> Bool {
        released.count <= start
    }

    @Test func findsLongTokensAtEverySplitSize() {
        var generator = SeededRandom(seed: 7)
        let secret = Self.randomToken(4096, &generator)
        let stream = bytes("{\"echo\":\"") + secret + bytes("\"}")
        for piece in [1, 2, 3, 100, 1000, 4095, 4096, 4097, 10000] {
            let result = Self.scan([secret], stream, piece: piece)
            #expect(result.found == 0, "piece \(piece)")
            #expect(result.released.count <= 9)
            #expect(result.released == Array(stream[..<result.released.count]))
        }
        // The secret minus its last byte is not a match; everything is released at the end.
        let almost = bytes("x") + Array(secret.dropLast()) + bytes("y")
        let miss = Self.scan([secret], almost, piece: 777)
        #expect(miss.found == nil)
        #expect(miss.released == almost)
    }

    /// A 64 KiB secret (the largest a source may give): too large for the transition table,
    /// so the sparse automaton with failure links is used; same answers.
    @Test func findsTheLargestSecretsWithoutTheTable() {
        var generator = SeededRandom(seed: 8)
        let secret = Self.randomToken(65536, &generator)
        #expect(!TokenAutomaton(tokens: [secret]).hasTable)
        #expect(TokenAutomaton(tokens: [Array(secret.prefix(4096))]).hasTable)
        let stream = bytes("abc") + Array(secret.prefix(30000)) + bytes("abc") + secret + bytes("!")
        for piece in [4096, 65536, 1 << 20] {
            let result = Self.scan([secret], stream, piece: piece)
            #expect(result.found == 0)
            #expect(result.released.count <= 30006)
            #expect(result.released == Array(stream[..<result.released.count]))
        }
    }

    @Test func manyTokensSharingPrefixes() {
        var generator = SeededRandom(seed: 11)
        // 64 secrets with the same 4-byte prefix (like ghp_), plus their base64 credentials' shapes.
        let tokens = (0..<64).map { _ in bytes("ghp_") + Self.randomToken(36, &generator) }
        for (index, token) in tokens.enumerated() where index % 7 == 0 {
            var stream = [UInt8]()
            for other in tokens where other != token { stream += other.prefix(20) + bytes(" ") }
            let start = stream.count
            stream += token + bytes(" tail")
            for piece in [1, 5, 64, 100_000] {
                let result = Self.scan(tokens, stream, piece: piece)
                #expect(result.found == index)
                #expect(Self.releasesNoTokenByte(result.released, tokenAt: start))
                #expect(result.released == Array(stream[..<result.released.count]))
            }
        }
    }

    /// A token inside another one, or overlapping the start of another: the match releases
    /// no byte of either.
    @Test func overlappingTokensReleaseNoPartOfEither() {
        let long = bytes("abcdefgh")
        let inner = bytes("cde")
        let result = Self.scan([long, inner], bytes("xxabcdefgh"), piece: 100)
        #expect(result.found == 1)
        #expect(result.released == bytes("xx"))
        let suffixFirst = Self.scan([bytes("bcd"), bytes("abce")], bytes("zabcd"), piece: 1)
        #expect(suffixFirst.found == 0)
        #expect(suffixFirst.released == bytes("za"))
        // Failure links: "aab" inside "aaab" found across pieces.
        #expect(Self.scan([bytes("aab")], bytes("aaab"), piece: 1).found == 0)
        #expect(Self.scan([bytes("abab")], bytes("abaabab"), piece: 2).found == 0)
    }

    @Test func randomStreamsAgreeWithANaiveSearch() {
        var generator = SeededRandom(seed: 99)
        for _ in 0..<300 {
            let tokens = (0..<Int.random(in: 1...5, using: &generator)).map { _ in
                (0..<Int.random(in: 1...6, using: &generator)).map { _ in UInt8.random(in: 97...99, using: &generator) }
            }
            let stream = (0..<Int.random(in: 0...60, using: &generator)).map { _ in UInt8.random(in: 97...100, using: &generator) }
            // Naive: the earliest end position of any token; the released bytes stop before it starts.
            var naiveEnd: Int?
            search: for end in 1...max(1, stream.count) where end <= stream.count {
                for token in tokens where token.count <= end && Array(stream[(end - token.count)..<end]) == token {
                    naiveEnd = end
                    break search
                }
            }
            let result = Self.scan(tokens, stream, piece: Int.random(in: 1...8, using: &generator))
            if let naiveEnd {
                #expect(result.found != nil)
                let token = tokens[result.found ?? 0]
                #expect(Array(stream[(naiveEnd - token.count)..<naiveEnd]) == token)
                #expect(result.released.count <= naiveEnd - token.count)
                #expect(result.released == Array(stream[..<result.released.count]))
            } else {
                #expect(result.found == nil)
                #expect(result.released == stream)
            }
        }
    }

    /// Throughput: 100 MiB in release builds (16 MiB in debug builds, which are ~10x slower),
    /// against 20 tokens, input made of near-misses.
    @Test func throughputIsLinear() {
        #if DEBUG
        let total = 16 << 20
        let minimumMiBPerSecond = 2.0
        #else
        let total = 100 << 20
        let minimumMiBPerSecond = 50.0
        #endif
        var generator = SeededRandom(seed: 5)
        let tokens = (0..<20).map { _ in bytes("sk-") + Self.randomToken(61, &generator) }
        // A 64 KiB block of near-misses: every token's first 60 bytes, over and over.
        var block: [UInt8] = []
        while block.count < 65536 { block += tokens[block.count % 20].prefix(60) }
        block = Array(block.prefix(65536))
        var scanner = PlaceholderScanner(tokens: tokens)
        var released = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<(total / block.count) {
                let result = scanner.feed(block)
                precondition(result.found == nil)
                released += result.forward.count
            }
            released += scanner.finish().count
        }
        #expect(released == total)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(total) / 1_048_576 / max(seconds, 1e-9)
        print("secret scan: \(total >> 20) MiB in \(elapsed), \(Int(rate)) MiB/s")
        #expect(rate > minimumMiBPerSecond)
    }
}

/// Red team round 2: partial and encoded echoes (windows, escapes, base64 alignments, case).
@Suite struct SecretEchoEncodingsTests {
    static let value = bytes("ghp_A1b2/C3d4\"E5f6&G7h8<I9j0")

    func found(_ echo: [UInt8], value: [UInt8] = value, basicUsers: [String] = []) -> Bool {
        let patterns = SecretEchoPatterns.patterns(value: value, basicUsers: basicUsers)
        return [1, 5, 1000].allSatisfy { piece in
            SecretScanningTests.scan(patterns, SecretEchoPatterns.folded(bytes("prefix ") + echo + bytes(" suffix")), piece: piece).found != nil
        }
    }

    @Test func rawValueAndTruncations() {
        let v = Self.value
        #expect(found(v))
        #expect(found(Array(v.dropLast())))
        #expect(found(Array(v.prefix(12))))
        #expect(found(Array(v.suffix(12))))
        // Two halves sent apart: each ≥ 12 bytes is caught on its own.
        #expect(found(Array(v.prefix(v.count / 2)) + bytes(" … ")))
        #expect(!found(Array(v.prefix(11))))
    }

    @Test func escapedForms() {
        #expect(found(SecretEchoPatterns.jsonEscaped(Self.value)))
        #expect(found(bytes("ghp_A1b2\\/C3d4\\\"E5")))
        #expect(found(SecretEchoPatterns.htmlEscaped(Self.value)))
        #expect(found(bytes("/C3d4&quot;E5f6&amp;G7")))
        #expect(found(SecretEchoPatterns.percentEncoded(Self.value)))
        #expect(found(bytes("b2%2FC3d4%22E5f6%26G7")))
        #expect(found(bytes("b2%2fc3d4%22e5f6%26g7")))
    }

    @Test func caseFolded() {
        #expect(found(bytes(String(decoding: Self.value, as: UTF8.self).uppercased())))
        #expect(found(bytes(String(decoding: Self.value, as: UTF8.self).lowercased())))
    }

    @Test func base64AtEveryAlignment() {
        for prefix in ["", "a", "ab", "abc:", "user:"] {
            let encoded = bytes(Base64.encode(bytes(prefix) + Self.value + bytes("!tail")))
            #expect(found(encoded), "prefix \(prefix)")
        }
        #expect(found(bytes(Base64.encode(bytes("x-access-token:") + Self.value)), basicUsers: ["x-access-token"]))
    }

    @Test func shortSecretIsScannedWhole() {
        let short = bytes("pin-1234")
        #expect(SecretEchoPatterns.patterns(value: short).contains(short))
        #expect(found(short, value: short))
        #expect(!found(bytes("pin-123"), value: short))
        #expect(SecretEchoPatterns.patterns(value: []) == [])
    }

    @Test func honestTextIsNotMatched() {
        #expect(!found(bytes("{\"login\":\"octocat\",\"id\":1,\"url\":\"https://api.github.com/users/octocat\"}")))
    }
}
