import Testing
@testable import WardenBrokerProtocol

@Suite struct PathSafetyTests {
    @Test(arguments: [
        ("/", "/"),
        ("/a/b/", "/a/b/"),
        ("/repos/acme/app.git/git-receive-pack", "/repos/acme/app.git/git-receive-pack"),
        ("/a%20b", "/a b"),
        ("/%7Euser/x", "/~user/x"),
        ("/v1/models/gpt:generate", "/v1/models/gpt:generate"),
        ("/a;v=1/b", "/a;v=1/b"),
        ("/.well-known/x", "/.well-known/x"),
        ("/a/...", "/a/..."),
        ("/a/..b", "/a/..b"),
        ("/@scope", "/@scope"),
        ("/caf%C3%A9", "/café"),
        ("/a/%2e%2e%2e", "/a/..."),
    ])
    func accepts(_ raw: String, _ decoded: String) throws {
        #expect(try PathSafety.decoded(raw) == decoded)
    }

    @Test(arguments: [
        "", "a", "*", "//", "/a//b", "//a", "/a/b//",
        "/.", "/..", "/./a", "/a/./b", "/a/..", "/a/../b", "/a/.;x/b", "/a/..;/b", "/a/;x/b",
        "/%2e", "/%2E%2e", "/a/.%2e/b", "/a/%2e./b", "/a/%2e%2e;x/b",
        "/a%2fb", "/a%2Fb", "/a%5cb", "/a%5Cb", "/a%00", "/a%25", "/a%252e%252e", "/a%0a", "/a%0D", "/a%7f", "/a%1b",
        "/a%", "/a%2", "/a%zz", "/a%2g", "/a%%41",
        "/a\\b", "/a b", "/a\tb", "/a\u{7F}", "/a\u{1}", "/caf\u{E9}",
        "/a\"b", "/a<b", "/a>b", "/a[b]", "/a^b", "/a`b", "/a{b}", "/a|b", "/a#b", "/a?b",
        "/%C3%28", "/%FF",
    ])
    func refuses(_ raw: String) {
        #expect(refusal { try PathSafety.check(raw) }?.status == 400, "\(raw.debugDescription)")
    }

    @Test func refusalsSayWhy() {
        #expect(refusal { try PathSafety.check("/a%2Fb") }?.reason.contains("%2F") == true)
        #expect(refusal { try PathSafety.check("/a/../b") }?.reason.contains("dot segment") == true)
        #expect(refusal { try PathSafety.check("/a//b") }?.reason.contains("//") == true)
    }
}
