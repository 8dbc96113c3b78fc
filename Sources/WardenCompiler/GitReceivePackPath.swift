/// How the compiler recognises a git smart-HTTP push path, for `explain` and policy tests.
///
/// This mirrors `WardenBrokerProtocol.GitSmartHTTP.isReceivePack(path:)`, which the broker
/// uses to decide which requests are governed by `git push` rules; the layering forbids the
/// compiler to import the broker's modules, so the definition is repeated here and a test in
/// WardenRuntimeTests checks that both agree on a table of paths. Change both together.
public enum GitReceivePackPath {
    static let receivePack = Array("git-receive-pack".utf8)

    /// Whether `path` (decoded, no query) addresses receive-pack: its last segment, ASCII
    /// case-folded, after removing one trailing `/`, is `git-receive-pack`. So
    /// `/acme/app.git/git-receive-pack/` and `/GIT-RECEIVE-PACK` are pushes too.
    public static func isReceivePack(path: String) -> Bool {
        var trimmed = Substring(path)
        if trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return false }
        let segment = trimmed[trimmed.index(after: slash)...].utf8
        return segment.count == receivePack.count
            && zip(segment, receivePack).allSatisfy { (($0 >= 0x41 && $0 <= 0x5A) ? $0 | 0x20 : $0) == $1 }
    }
}
