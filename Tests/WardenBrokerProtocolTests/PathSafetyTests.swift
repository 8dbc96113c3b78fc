import Testing
@testable import WardenBrokerProtocol

@Suite struct PathSafetyTests {
    @Test(arguments: [
        ("/", "/"),
        ("/a/b/", "/a/b/"),
        ("/repos/acme/app.git/git-receive-pack", "/repos/acme/app.git/git-receive-pack"),
        ("/a%21b", "/a!b"),
        ("/a%3Fb", "/a?b"),
        ("/%7Euser/x", "/~user/x"),
        ("/v1/models/gpt:generate", "/v1/models/gpt:generate"),
        ("/.well-known/x", "/.well-known/x"),
        ("/a/.x", "/a/.x"),
        ("/a/..b", "/a/..b"),
        ("/@scope", "/@scope"),
        ("/caf%C3%A9", "/café"),
        ("/a/%2e%2e%2ex", "/a/...x"),
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
        // Matrix parameters (Tomcat and Spring strip them) and their encoded form.
        "/admin;x=1", "/admin;", "/a;v=1/b", "/;", "/admin%3Bx=1", "/admin%3b", "/a/%3B/b",
        // Segments ending in '.' (IIS trims them), raw or encoded.
        "/admin.", "/a/admin./b", "/a/...", "/a/%2e%2e%2e", "/admin%2E", "/admin.%2e", "/x.json.",
        // Encoded whitespace and control characters anywhere.
        "/admin%20", "/a%20b", "/%20admin", "/admin%09", "/admin%0A", "/admin%0d", "/admin%0B", "/admin%0C",
        "/admin%1F", "/admin%7F", "/admin%C2%85", "/admin%C2%A0", "/admin%E2%80%8B", "/admin%E2%80%A8",
        "/admin%E3%80%80", "/admin%EF%BB%BF", "/admin%E2%80%AE", "/admin%C2%9F",
    ])
    func refuses(_ raw: String) {
        #expect(refusal { try PathSafety.check(raw) }?.status == 400, "\(raw.debugDescription)")
    }

    @Test(arguments: [
        ("/", "/"),
        ("/%65cho/pct", "/echo/pct"),
        ("/%7euser/%41%5a%30%2D%2e%5F%7E", "/~user/AZ0-._~"),
        ("/a%3fb", "/a%3Fb"),
        ("/a%3Ab%40c", "/a%3Ab%40c"),
        ("/caf%c3%a9", "/caf%C3%A9"),
        ("/a:b@c/d+e", "/a:b@c/d+e"),
        ("/a/b/", "/a/b/"),
    ])
    func normalizedFormDecodesOnlyUnreserved(_ raw: String, _ normalized: String) throws {
        #expect(try PathSafety.normalized(raw) == normalized)
        // Forwarded and decided forms are the same path: decoding the forwarded one gives the decided one.
        #expect(try PathSafety.decoded(normalized) == PathSafety.decoded(raw))
        #expect(try PathSafety.normalized(normalized) == normalized)
    }

    @Test func refusalsNameTheProblem() {
        #expect(refusal { try PathSafety.check("/admin;x=1") }?.reason.contains("matrix") == true)
        #expect(refusal { try PathSafety.check("/admin%3b") }?.reason.contains("%3B") == true)
        #expect(refusal { try PathSafety.check("/admin.") }?.reason.contains("ending in '.'") == true)
        #expect(refusal { try PathSafety.check("/admin%20") }?.reason.contains("%20") == true)
        #expect(refusal { try PathSafety.check("/admin%0a") }?.reason.contains("control") == true)
        #expect(refusal { try PathSafety.check("/admin%C2%A0") }?.reason.contains("whitespace") == true)
    }

    @Test func refusalsSayWhy() {
        #expect(refusal { try PathSafety.check("/a%2Fb") }?.reason.contains("%2F") == true)
        #expect(refusal { try PathSafety.check("/a/../b") }?.reason.contains("dot segment") == true)
        #expect(refusal { try PathSafety.check("/a//b") }?.reason.contains("//") == true)
    }
}
