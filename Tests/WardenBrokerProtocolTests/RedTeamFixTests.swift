import Testing
@testable import WardenBrokerProtocol

/// The red team's bypasses (deny rules evaded by path spellings, method and URL overrides,
/// echoing methods) refused by the parser.
@Suite struct RedTeamFixTests {
    @Test(arguments: [
        "X-HTTP-Method-Override: DELETE", "x-http-method-override: DELETE", "X-HTTP-Method: DELETE",
        "X-Method-Override: DELETE", "X-Original-URL: /admin", "X-Rewrite-URL: /admin", "X-Original-Method: DELETE",
        "X_HTTP_Method_Override: DELETE", "X_Original_URL: /admin",
    ])
    func overrideHeadersAreRefused(_ header: String) {
        let result = refusal { try RequestHead.parse(request("POST /echo/pct HTTP/1.1", ["Host: a", header])) }
        #expect(result?.status == 400)
        let name = String(header.prefix { $0 != ":" })
        #expect(result?.reason.contains(name) == true, "\(String(describing: result))")
    }

    @Test func similarHeadersStayAllowed() throws {
        let head = try RequestHead.parse(request("GET / HTTP/1.1", ["Host: a", "X-HTTP-Methods: x", "X-Original-Host: b", "X-Forwarded-For: c"]))
        #expect(head.headers.count == 4)
    }

    @Test(arguments: ["TRACE", "TRACK"])
    func echoingMethodsAreRefused(_ method: String) {
        let result = refusal { try RequestHead.parse(request("\(method) / HTTP/1.1", ["Host: a", "Authorization: Bearer x"])) }
        #expect(result?.status == 405)
        #expect(result?.reason.contains(method) == true)
    }

    @Test(arguments: ["delete", "Delete", "trace", "tRACE", "get"])
    func methodsWithLowercaseLettersAreRefused(_ method: String) {
        #expect(refusal { try RequestHead.parse(request("\(method) / HTTP/1.1")) }?.status == 400)
    }

    @Test(arguments: [
        "/echo/admin;x=1", "/echo/admin%3bx=1", "/echo/admin%3B", "/echo/admin.", "/echo/admin%20",
        "/echo/admin%09", "/echo/admin%0a", "/echo/admin%2e", "/echo/admin%C2%A0",
    ])
    func redTeamPathsAreRefused(_ path: String) {
        #expect(refusal { try RequestHead.parse(request("GET \(path) HTTP/1.1")) }?.status == 400)
    }

    @Test func theDecidedPathIsTheForwardedPath() throws {
        let head = try RequestHead.parse(request("GET /%65cho/pct%3F?q=%65 HTTP/1.1"))
        #expect(head.decodedPath == "/echo/pct?")
        #expect(head.normalizedPath == "/echo/pct%3F")
        #expect(head.normalizedTarget == "/echo/pct%3F?q=%65")
        #expect(head.originTarget == "/%65cho/pct%3F?q=%65")
        let rebuilt = String(decoding: head.serialized(), as: UTF8.self)
        #expect(rebuilt.hasPrefix("GET /echo/pct%3F?q=%65 HTTP/1.1\r\n"))
        let again = try RequestHead.parse(head.serialized())
        #expect(again.path == head.normalizedPath && again.decodedPath == head.decodedPath)
    }

    @Test func absoluteFormIsForwardedNormalized() throws {
        let head = try RequestHead.parse(request("GET https://a/%61dmin HTTP/1.1", ["Host: a"]))
        #expect(String(decoding: head.serialized(), as: UTF8.self).hasPrefix("GET /admin HTTP/1.1\r\n"))
    }
}

@Suite struct GitSmartHTTPTests {
    @Test(arguments: [
        ("/acme/app.git/git-receive-pack", "/acme/app"),
        ("/acme/app/git-receive-pack", "/acme/app"),
        ("/acme/app.git/git-receive-pack/", "/acme/app"),
        ("/acme/app/GIT-RECEIVE-PACK", "/acme/app"),
        ("/acme/app.GIT/Git-Receive-Pack/", "/acme/app"),
        ("/a/b/c.git/git-receive-pack", "/a/b/c"),
        ("/acme/app.git.git/git-receive-pack", "/acme/app.git"),
    ])
    func recognisesReceivePack(_ path: String, _ repository: String) {
        #expect(GitSmartHTTP.isReceivePack(path: path))
        #expect(GitSmartHTTP.repositoryPath(ofReceivePack: path) == repository)
    }

    @Test(arguments: [
        "/acme/app.git/git-upload-pack", "/acme/app.git/info/refs", "/acme/app/git-receive-pack//",
        "/acme/app/git-receive-pack/x", "/acme/app/git-receive-pack.json", "/acme/app/xgit-receive-pack",
        "/", "", "git-receive-pack",
    ])
    func otherPathsAreNotReceivePack(_ path: String) {
        #expect(!GitSmartHTTP.isReceivePack(path: path))
        #expect(GitSmartHTTP.repositoryPath(ofReceivePack: path) == nil)
    }

    @Test func receivePackAtTheRootHasNoRepository() {
        #expect(GitSmartHTTP.isReceivePack(path: "/git-receive-pack"))
        #expect(GitSmartHTTP.repositoryPath(ofReceivePack: "/git-receive-pack") == nil)
        #expect(GitSmartHTTP.repositoryPath(ofReceivePack: "/.git/git-receive-pack") == nil)
    }

    @Test func matrixParameterSpellingIsRefusedBeforeDetection() {
        #expect(refusal { try RequestHead.parse(request("POST /acme/app/git-receive-pack;x HTTP/1.1")) }?.status == 400)
    }

    @Test func packFollowsUnlessOnlyDeletions() {
        #expect(!GitSmartHTTP.packFollows([]))
        #expect(!GitSmartHTTP.packFollows([RefUpdate(old: oidA, new: zeros, ref: "refs/heads/x")]))
        #expect(GitSmartHTTP.packFollows([RefUpdate(old: oidA, new: zeros, ref: "refs/heads/x"), RefUpdate(old: zeros, new: oidB, ref: "refs/heads/y")]))
    }
}
