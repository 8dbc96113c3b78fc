import Testing
@testable import WardenBrokerProtocol
import WardenTestSupport

@Suite struct PlaceholderScannerTests {
    static let tokens = [bytes("wdn_ph_0123456789abcdef0123456789abcdef"), bytes("wdn_ph_ffffffffffffffffffffffffffffffff")]

    /// Feeds `stream` in pieces; returns what was forwarded and the first token found.
    func scan(_ stream: [UInt8], splits: [Int]) -> (forwarded: [UInt8], found: Int?) {
        var scanner = PlaceholderScanner(tokens: Self.tokens)
        var forwarded: [UInt8] = []
        var offset = 0
        for end in splits + [stream.count] where end >= offset {
            let result = scanner.feed(Array(stream[offset..<end]))
            forwarded += result.forward
            offset = end
            if let found = result.found { return (forwarded, found) }
        }
        return (forwarded + scanner.finish(), nil)
    }

    @Test func findsATokenAtEverySplitAndNeverForwardsIt() {
        let stream = bytes("{\"text\":\"hello wdn_ph_ffffffffffffffffffffffffffffffff bye\"}")
        let start = 16
        for first in 0...stream.count {
            for second in stride(from: first, through: stream.count, by: 7) {
                let result = scan(stream, splits: [first, second])
                #expect(result.found == 1, "splits \(first) \(second)")
                #expect(result.forwarded.count <= start)
                #expect(result.forwarded == Array(stream[..<result.forwarded.count]))
            }
        }
    }

    @Test func forwardsEverythingWhenNoTokenIsThere() {
        var generator = SeededRandom(seed: 42)
        for _ in 0..<200 {
            let stream = (0..<Int.random(in: 0...400, using: &generator)).map { _ in
                Bool.random(using: &generator) ? bytes("wdn_ph_0")[Int.random(in: 0...7, using: &generator)] : UInt8.random(in: 0...255, using: &generator)
            }
            let splits = (0..<5).map { _ in Int.random(in: 0...stream.count, using: &generator) }.sorted()
            let result = scan(stream, splits: splits)
            #expect(result.found == nil)
            #expect(result.forwarded == stream)
        }
    }

    @Test func holdsBackOnlyWhatCouldStartAToken() {
        var scanner = PlaceholderScanner(tokens: Self.tokens)
        #expect(scanner.feed(bytes("abc")).forward == bytes("abc"))
        #expect(scanner.feed(bytes("xyz wdn_ph_01")).forward == bytes("xyz "))
        #expect(scanner.feed(bytes("2")).forward == [])
        #expect(scanner.feed(bytes("x")).forward == bytes("wdn_ph_012x"))
        #expect(scanner.feed(bytes("w")).forward == [])
        #expect(scanner.finish() == bytes("w"))
        #expect(scanner.finish() == [])
    }

    @Test func keepsScanningAfterAMatch() {
        var scanner = PlaceholderScanner(tokens: Self.tokens)
        let first = scanner.feed(bytes("a") + Self.tokens[0] + bytes("b") + Self.tokens[1])
        #expect(first.found == 0)
        #expect(first.forward == bytes("a"))
        let second = scanner.feed([])
        #expect(second.found == 1)
        #expect(second.forward == bytes("b"))
    }

    @Test func oneShotSearch() {
        #expect(PlaceholderScanner.firstMatch(of: Self.tokens, in: bytes("Bearer ") + Self.tokens[1])?.offset == 7)
        #expect(PlaceholderScanner.firstMatch(of: Self.tokens, in: bytes("Bearer ") + Self.tokens[1])?.token == 1)
        #expect(PlaceholderScanner.firstMatch(of: [[], bytes("b")], in: bytes("ab"))?.token == 1)
        #expect(PlaceholderScanner.firstMatch(of: Self.tokens, in: bytes("nothing")) == nil)
        #expect(PlaceholderScanner.firstMatch(of: [], in: bytes("nothing")) == nil)
    }

    @Test func percentDecodedSearchFindsEncodedTokens() {
        let encoded = "/x?q=%77dn_ph_ffffffffffffffffffffffffffffffff"
        #expect(PlaceholderScanner.firstMatch(of: Self.tokens, in: bytes(encoded)) == nil)
        #expect(PlaceholderScanner.firstMatch(of: Self.tokens, in: PercentDecoding.decodedLeniently(encoded))?.token == 1)
        #expect(PercentDecoding.decodedLeniently("%zz%4") == bytes("%zz%4"))
        let twice = "/x?q=%2577dn_ph_ffffffffffffffffffffffffffffffff"
        #expect(PlaceholderScanner.firstMatch(of: Self.tokens, in: PercentDecoding.decodedLeniently(twice)) == nil)
        #expect(PlaceholderScanner.firstMatch(of: Self.tokens, in: PercentDecoding.decodedRepeatedly(twice))?.token == 1)
        #expect(PercentDecoding.decodedRepeatedly("%252525252541", maxRounds: 2) == bytes("%25252541"))
    }
}
