import Testing
@testable import WardenBrokerProtocol
import WardenTestSupport

@Suite struct HeaderPlaceholdersTests {
    static let token = bytes("wdn_ph_0123456789abcdef0123456789abcdef")
    static let other = bytes("wdn_ph_ffffffffffffffffffffffffffffffff")

    @Test func base64RoundTripsAndIsStrict() {
        var generator = SeededRandom(seed: 64)
        for length in 0..<40 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Base64.encode(data)
            #expect(Base64.decode(bytes(encoded)[...]) == data)
            #expect(Base64.decode(bytes(encoded.replacingOccurrences("=", ""))[...]) == data)
        }
        #expect(Base64.encode(bytes("x-access-token:abc")) == "eC1hY2Nlc3MtdG9rZW46YWJj")
        for bad in ["a", "ab=c", "a===", "ab c", "ab\nc", "YW=", "YR==", "YWJj-_", "Zm9v===="] {
            #expect(Base64.decode(bytes(bad)[...]) == nil, "\(bad.debugDescription)")
        }
    }

    @Test func findsPlainAndBasicEncodedPlaceholders() {
        let tokens = [Self.token, Self.other]
        #expect(HeaderPlaceholders.find(tokens, inHeaderValue: "Bearer " + String(decoding: Self.other, as: UTF8.self)) == [1])
        let basic = "Basic " + Base64.encode(bytes("x-access-token:") + Self.token)
        #expect(HeaderPlaceholders.find(tokens, inHeaderValue: basic) == [0])
        #expect(HeaderPlaceholders.find(tokens, inHeaderValue: "basic " + Base64.encode(bytes("u:") + Self.other)) == [1])
        #expect(HeaderPlaceholders.find(tokens, inHeaderValue: "Basic " + Base64.encode(bytes("u:p"))) == [])
        #expect(HeaderPlaceholders.find(tokens, inHeaderValue: "text/plain") == [])
    }

    @Test func replacesPlainAndInsideBasicCredentials() {
        let secret = bytes("ghs_realSecretValue")
        let plain = HeaderPlaceholders.replacing([Self.token], with: [secret], inHeaderValue: "token " + String(decoding: Self.token, as: UTF8.self))
        #expect(plain == "token ghs_realSecretValue")
        let basic = HeaderPlaceholders.replacing([Self.token], with: [secret], inHeaderValue: "Basic " + Base64.encode(bytes("x-access-token:") + Self.token))
        #expect(basic == "Basic " + Base64.encode(bytes("x-access-token:ghs_realSecretValue")))
        let untouched = "Basic " + Base64.encode(bytes("u:p"))
        #expect(HeaderPlaceholders.replacing([Self.token], with: [secret], inHeaderValue: untouched) == untouched)
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
