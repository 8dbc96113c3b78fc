import Foundation
import Testing
@testable import WardenBroker

/// Red team round 2: encodings labels that switched the echo scan off, upstream bytes quoted
/// in the broker's own messages, and responses to requests without an injection.
@Suite("Broker echo scan: every response, every label, no quoted upstream bytes", .serialized)
struct BrokerEchoRound2Tests {
    static let secret = BrokerFixture.secret
    static let runSecrets = [BrokerScannedSecret(name: "gh-token", value: Array(BrokerFixture.secret.utf8))]

    func body(_ text: String, encoding: String) -> String {
        "HTTP/1.1 200 OK\r\nContent-Encoding: \(encoding)\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)"
    }

    @Test func bogusContentEncodingLabelDoesNotSwitchTheScanOff() throws {
        let (r, c, f) = try BrokerHostileUpstreamTests().exchange(body("Authorization: Bearer \(Self.secret)", encoding: "utf-8"),
                                                                  path: "/inject/x")
        #expect(!c.text.contains(Self.secret))
        #expect(r?.status == 502)
        #expect(r?.bodyText == "warden: upstream mirror.test sent Content-Encoding (a coding it does not know) although the broker asked for identity; it cannot check it for echoed secrets\n")
        #expect(f.events.waitFor { $0.refusals.contains { $0.reason.contains("Content-Encoding") } })
    }

    @Test func realGzipIsRefusedWhenSecretsAreScanned() throws {
        let (r, c, f) = try BrokerHostileUpstreamTests().exchange(body("\u{1f}compressed", encoding: "gzip"), path: "/inject/x")
        #expect(r?.status == 502)
        #expect(r?.bodyText.contains("sent Content-Encoding gzip although the broker asked for identity") == true)
        #expect(!c.text.contains("compressed"))
        #expect(f.events.waitFor { $0.refusals.contains { $0.reason.contains("Content-Encoding gzip") } })
    }

    @Test func gzipIsRefusedOnAResponseWithoutInjectionWhenTheRunHasSecrets() throws {
        let (r, _, _) = try BrokerHostileUpstreamTests().exchange(body("zz", encoding: "br"), scannedSecrets: Self.runSecrets)
        #expect(r?.status == 502)
    }

    @Test func identityLabelIsForwarded() throws {
        let (r, _, _) = try BrokerHostileUpstreamTests().exchange(body("fine", encoding: "identity"), path: "/inject/x")
        #expect(r?.status == 200)
        #expect(r?.bodyText == "fine")
    }

    @Test func secretNamedHeaderWithAControlByteIsNotQuoted() throws {
        let (r, c, f) = try BrokerHostileUpstreamTests().exchange(
            "HTTP/1.1 200 OK\r\nX-Fine: 1\r\nBearerSECRETVALUE123: a\u{01}b\r\nContent-Length: 0\r\n\r\n")
        #expect(r?.status == 502)
        #expect(!c.text.contains("SECRETVALUE"))
        #expect(r?.bodyText.contains("header 2") == true)
        #expect(f.events.waitFor { !$0.refusals.isEmpty })
        #expect(f.events.refusals.allSatisfy { !$0.reason.contains("SECRETVALUE") })
    }

    @Test func storedSecretReturnedToARequestWithoutInjectionIsCut() throws {
        let (_, c, f) = try BrokerHostileUpstreamTests().exchange(
            "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{\"stored\":\"Bearer \(Self.secret)\"}".padding(toLength: 200, withPad: " ", startingAt: 0),
            path: "/plain/x", scannedSecrets: Self.runSecrets)
        #expect(c.waitClosed())
        #expect(!c.text.contains(String(Self.secret.prefix(12))))
        #expect(f.events.waitFor { $0.exfiltrations.contains { $0.secret == "gh-token" && $0.host == "mirror.test" } })
    }

    @Test func storedSecretInAHeaderOfAResponseWithoutInjectionIsCut() throws {
        let (_, c, f) = try BrokerHostileUpstreamTests().exchange(
            "HTTP/1.1 200 OK\r\nX-Stored: \(Self.secret.uppercased())\r\nContent-Length: 0\r\n\r\n",
            path: "/plain/x", scannedSecrets: Self.runSecrets)
        #expect(c.waitClosed())
        #expect(!c.text.uppercased().contains(Self.secret.uppercased()))
        #expect(f.events.waitFor { $0.exfiltrations.contains { $0.secret == "gh-token" } })
    }

    @Test func truncatedEchoIsCut() throws {
        let truncated = String(Self.secret.dropLast())
        let (_, c, f) = try BrokerHostileUpstreamTests().exchange(body("got \(truncated)", encoding: "identity"), path: "/inject/x")
        #expect(c.waitClosed())
        #expect(!c.text.contains(truncated))
        #expect(f.events.waitFor { !$0.exfiltrations.isEmpty })
    }
}

@Suite("Broker: upstream replies that never become a response", .serialized)
struct BrokerEndlessInterimTests {
    @Test func endlessInterimResponsesEndIn502() throws {
        let answer = String(repeating: "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", count: 40) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let (_, c, f) = try BrokerHostileUpstreamTests().exchange(answer)
        #expect(c.waitClosed())
        #expect(c.text.contains("HTTP/1.1 502 Bad Gateway"))
        #expect(c.text.contains("more than 16 interim (1xx) responses"))
        #expect(!c.text.contains("\r\n\r\nok"))
        #expect(f.events.waitFor { $0.refusals.contains { $0.reason.contains("interim") } })
    }

    @Test func aFewInterimResponsesAreForwarded() throws {
        let answer = String(repeating: "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", count: 3) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let (_, c, _) = try BrokerHostileUpstreamTests().exchange(answer)
        for _ in 0..<500 where !c.text.hasSuffix("\r\n\r\nok") { usleep(2000) }
        #expect(c.text.hasSuffix("\r\n\r\nok"))
        #expect(!c.text.contains("502"))
    }

    @Test func aReplyThatIsNotHTTPIsAnswered502AtOnce() throws {
        let (r, c, f) = try BrokerHostileUpstreamTests().exchange("SSH-2.0-OpenSSH_9.6\r\n")
        #expect(r?.status == 502)
        #expect(r?.bodyText == "warden: upstream mirror.test answered with something other than HTTP\n")
        #expect(!c.text.contains("SSH-2.0"))
        #expect(f.events.waitFor { !$0.refusals.isEmpty })
    }
}
