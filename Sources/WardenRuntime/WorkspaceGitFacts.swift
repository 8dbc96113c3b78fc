#if canImport(Glibc)
import Glibc
#endif

/// The workspace's git facts a run's identity token carries: the `origin` remote URL
/// (credentials, query and fragment removed) and the HEAD commit.
///
/// The workspace is agent-controlled between runs, so nothing here runs git or follows a
/// link: `.git` must be a real directory (a `.git` file pointing elsewhere, as in linked
/// worktrees, is not followed), every file is opened relative to it with O_NOFOLLOW, read
/// with a size bound, and parsed as text (`GitConfigText`). A fact that cannot be read
/// safely is left out of the token, never guessed. What the token says is what the
/// workspace held at launch, as trustworthy as the policy's protection of `.git/config`
/// and the refs (see docs/identity.md).
struct WorkspaceGitFacts: Equatable, Sendable {
    var repository: String?
    var commit: String?

    static let configLimit = 256 * 1024
    static let packedRefsLimit = 4 * 1024 * 1024

    static func read(workspace: String) -> WorkspaceGitFacts {
        let top = NoFollowFiles.openDirectoryPath(Array(workspace.utf8))
        guard top >= 0 else { return WorkspaceGitFacts() }
        defer { close(top) }
        let git = NoFollowFiles.openDirectory(top, Array(".git".utf8))
        guard git >= 0 else { return WorkspaceGitFacts() }
        defer { close(git) }
        var facts = WorkspaceGitFacts()
        if case .content(let config)? = NoFollowFiles.readFile(git, Array("config".utf8), limit: configLimit),
           let url = GitConfigText(config).values("remote.origin.url").last {
            facts.repository = sanitizedRemote(url)
        }
        facts.commit = head(git)
        return facts
    }

    /// `url` without userinfo, query or fragment; nil unless it is printable ASCII without
    /// spaces (at most 2048 bytes). `https://user:token@host/p?x` -> `https://host/p`;
    /// `git@host:acme/app.git` -> `host:acme/app.git`.
    static func sanitizedRemote(_ url: [UInt8]) -> String? {
        guard !url.isEmpty, url.count <= 2048, url.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        var text = url[...]
        if let cut = text.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) { text = text[..<cut] }
        let separator = Array("://".utf8)
        if let start = text.indices.first(where: { text[$0...].starts(with: separator) }) {
            let authorityStart = start + separator.count
            let authorityEnd = text[authorityStart...].firstIndex(of: UInt8(ascii: "/")) ?? text.endIndex
            if let at = text[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) {
                text = (Array(text[..<authorityStart]) + Array(text[(at + 1)...]))[...]
            }
        } else if let colon = text.firstIndex(of: UInt8(ascii: ":")), let at = text[..<colon].lastIndex(of: UInt8(ascii: "@")) {
            // scp-like `user@host:path`.
            text = text[(at + 1)...]
        }
        return text.isEmpty ? nil : String(decoding: text, as: UTF8.self)
    }

    /// HEAD's commit: a detached id, or the ref it names resolved from `refs/...` (a loose
    /// ref, one hop) or `packed-refs`.
    static func head(_ git: Int32) -> String? {
        guard case .content(let raw)? = NoFollowFiles.readFile(git, Array("HEAD".utf8), limit: 512) else { return nil }
        let text = trimmed(raw)
        if GitObjectID.isValid(text) { return String(decoding: text, as: UTF8.self) }
        let prefix = Array("ref: ".utf8)
        guard text.starts(with: prefix) else { return nil }
        let ref = Array(text.dropFirst(prefix.count))
        guard isSafeRefName(ref) else { return nil }
        if let loose = looseRef(git, ref) { return loose }
        return packedRef(git, ref)
    }

    static func looseRef(_ git: Int32, _ ref: [UInt8]) -> String? {
        let parts = ref.split(separator: UInt8(ascii: "/")).map(Array.init)
        var dir = dup(git)
        guard dir >= 0 else { return nil }
        defer { close(dir) }
        for part in parts.dropLast() {
            let next = NoFollowFiles.openDirectory(dir, part)
            guard next >= 0 else { return nil }
            close(dir)
            dir = next
        }
        guard let name = parts.last, case .content(let raw)? = NoFollowFiles.readFile(dir, name, limit: 512) else { return nil }
        let text = trimmed(raw)
        return GitObjectID.isValid(text) ? String(decoding: text, as: UTF8.self) : nil
    }

    static func packedRef(_ git: Int32, _ ref: [UInt8]) -> String? {
        guard case .content(let raw)? = NoFollowFiles.readFile(git, Array("packed-refs".utf8), limit: packedRefsLimit) else { return nil }
        for line in raw.split(separator: 0x0A) {
            guard let space = line.firstIndex(of: 0x20) else { continue }
            let id = Array(line[line.startIndex..<space])
            var name = Array(line[line.index(after: space)...])
            if name.last == 0x0D { name.removeLast() }
            if name == ref, GitObjectID.isValid(id[...]) { return String(decoding: id, as: UTF8.self) }
        }
        return nil
    }

    static func trimmed(_ raw: [UInt8]) -> ArraySlice<UInt8> {
        var s = raw[...]
        while let last = s.last, last == 0x0A || last == 0x0D || last == 0x20 { s = s.dropLast() }
        return s
    }


    /// `refs/...` of printable ASCII, no empty, `.` or `..` component, no backslash.
    static func isSafeRefName(_ ref: [UInt8]) -> Bool {
        guard ref.count <= 1024, ref.starts(with: Array("refs/".utf8)),
              ref.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) else { return false }
        return ref.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).allSatisfy {
            !$0.isEmpty && !$0.elementsEqual([0x2E]) && !$0.elementsEqual([0x2E, 0x2E])
        }
    }
}
