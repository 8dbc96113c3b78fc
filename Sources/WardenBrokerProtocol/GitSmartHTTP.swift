/// How a git smart-HTTP push is recognised: the one definition the broker (which inspects
/// the push) and the compiler (explain and policy tests) both use.
public enum GitSmartHTTP {
    static let receivePack = "git-receive-pack"

    /// Whether `path` (the decoded path rules match, no query) addresses receive-pack: its
    /// last segment, ASCII case-folded, after removing one trailing `/`, is `git-receive-pack`.
    /// So `/acme/app.git/git-receive-pack/` and `/acme/app/GIT-RECEIVE-PACK` are pushes too
    /// (servers that fold case or ignore a trailing slash would run them as pushes). The
    /// method is the caller's business: the contract governs POSTs.
    public static func isReceivePack(path: String) -> Bool {
        lastSegment(of: path).map { HTTPSyntax.lowercasedASCII(String($0.segment)) == receivePack } ?? false
    }

    /// The repository path of a receive-pack `path`: what precedes the last segment, without
    /// its trailing `/` and without a trailing `.git` (any case), e.g. `/acme/app` for
    /// `/acme/app.git/git-receive-pack`. Nil when `path` is not a receive-pack path or the
    /// repository path would be empty.
    public static func repositoryPath(ofReceivePack path: String) -> String? {
        guard let (segment, before) = lastSegment(of: path),
              HTTPSyntax.lowercasedASCII(String(segment)) == receivePack else { return nil }
        var repository = before
        if repository.hasSuffix("/") { repository = repository.dropLast() }
        if HTTPSyntax.lowercasedASCII(String(repository.suffix(4))) == ".git" { repository = repository.dropLast(4) }
        guard !repository.isEmpty, repository != "/" else { return nil }
        return String(repository)
    }

    /// Whether a pack follows the command list: at least one update that is not a deletion.
    /// With no pack (an empty list, git's authentication probe, or deletions only) the body
    /// must end right after the commands' flush.
    public static func packFollows(_ updates: [RefUpdate]) -> Bool {
        updates.contains { !$0.isDeletion }
    }

    /// The last segment (after one trailing `/` is removed) and everything before it.
    private static func lastSegment(of path: String) -> (segment: Substring, before: Substring)? {
        var trimmed = Substring(path)
        if trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return nil }
        let segment = trimmed[trimmed.index(after: slash)...]
        return segment.isEmpty ? nil : (segment, trimmed[..<trimmed.index(after: slash)])
    }
}
