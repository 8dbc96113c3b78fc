import Testing
import WardenBrokerProtocol
import WardenCompiler

/// The compiler (explain, policy tests) and the broker must agree on which paths are git
/// pushes: `GitReceivePackPath` repeats `GitSmartHTTP.isReceivePack(path:)` because the
/// layering forbids the compiler to import the broker's modules. This table keeps them equal.
@Suite struct GitReceivePackAgreementTests {
    static let paths = [
        "/a/b.git/git-receive-pack", "/a/b.git/git-receive-pack/", "/a/b.git/git-receive-pack//",
        "/GIT-RECEIVE-PACK", "/Git-Receive-Pack/", "/git-receive-pack", "git-receive-pack", "/git-receive-pack.x",
        "/a/git-receive-pack.git", "/a/git-receive-pack/x", "/git-upload-pack", "/a/b.git/info/refs",
        "", "/", "//", "/a/xgit-receive-pack", "/a/git-receive-pac", "/a/git-receive-packs", "/a/git_receive_pack",
        "/a/GİT-RECEIVE-PACK", "/a/git-receive-pack ", "/a/ git-receive-pack", "/a/git-receive-pack\u{0}",
    ]

    @Test(arguments: paths)
    func compilerAndBrokerAgree(_ path: String) {
        #expect(GitReceivePackPath.isReceivePack(path: path) == GitSmartHTTP.isReceivePack(path: path), "\(path.debugDescription)")
    }

    @Test func tableCoversBothAnswers() {
        let pushes = Self.paths.filter { GitSmartHTTP.isReceivePack(path: $0) }
        #expect(pushes.contains("/GIT-RECEIVE-PACK"))
        #expect(pushes.contains("/a/b.git/git-receive-pack/"))
        #expect(!pushes.contains("/git-upload-pack"))
        #expect(!pushes.contains(""))
        #expect(!pushes.contains("/git-receive-pack.x"))
    }
}
