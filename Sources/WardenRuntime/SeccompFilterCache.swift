import WardenAudit
import WardenCompiler
#if canImport(Glibc)
import Glibc
#endif

/// Compiled seccomp filters, and the SHA-256 of each identity's launch plan, kept between
/// runs, so a launch neither compiles and verifies the same filter again (a third of
/// `warden run`'s own CPU) nor encodes the plan as JSON again to hash it (docs/performance.md).
///
/// Trust: an entry is used only if it can be nothing but Warden's own output for exactly
/// this input.
/// - Key: SHA-256 of Warden's version and this executable's build (`WardenBuild.identity`),
///   every policy file's bytes (the policy and all its includes, as loaded), and the
///   compiler's whole input (`SeccompFilterArchive.compilerInput`: the seccomp policy, which
///   carries the host facts it depends on — architecture, user notification — and
///   libseccomp's version); a plan entry's key adds the identity and the policy files' paths
///   (the plan names them). Any change of any of them is another key.
/// - Place: the `seccomp-cache` directory beside the audit log. `Run` refuses to launch an
///   agent that could write it (like the audit trail itself), so no agent of any policy can
///   plant or edit an entry. The directory must be the caller's own, not writable by group
///   or others, and not a link; else the cache is not used.
/// - Entry: a regular file of the caller's own (not group/other writable, not a link), at
///   most 8 MiB, whose first line is the SHA-256 of the rest; the rest carries the key and
///   a well-formed program (`.filter`) or plan hash (`.plan`). Anything else — an edited,
///   truncated, renamed or foreign file — is refused, and the value is computed again.
/// - Size: at most `maxEntries` entries; a store past it removes the oldest.
/// - Room: the cache shares the audit log's filesystem, and the log comes first. An entry
///   is stored only while at least `reservedBytes` stay free after it, so a cache never
///   takes the room an audit record needs (a store that would is skipped: it costs only a
///   compile next time).
public struct SeccompFilterCache: Sendable {
    public let directory: String
    let salt: [UInt8]

    static let maxEntryBytes = 8 << 20
    static let magic = "warden-seccomp-cache"

    /// - Parameters:
    ///   - directory: where entries live (created 0700 when missing).
    ///   - policyFiles: the bytes of every file of the policy, as loaded.
    ///   - wardenVersion: the running Warden's version.
    ///   - build: the running executable's build (tests pass others).
    public init(directory: String, policyFiles: [[UInt8]], wardenVersion: String, build: String = WardenBuild.identity) {
        self.directory = directory
        var salt = Array("warden \(wardenVersion)\nbuild \(build)\n".utf8)
        for file in policyFiles { salt += Array("file \(Digest.sha256Hex(file))\n".utf8) }
        self.salt = salt
    }

    /// The cache beside the audit log `logPath`.
    public static func beside(logPath: String) -> String {
        guard let slash = logPath.lastIndex(of: "/") else { return "seccomp-cache" }
        let dir = String(logPath[..<slash])
        return (dir.isEmpty ? "" : dir) + "/seccomp-cache"
    }

    public func key(for policy: SeccompPolicy) -> String {
        Digest.sha256Hex(salt + SeccompFilterArchive.compilerInput(policy))
    }

    /// The filter for `policy`: a valid entry's, else compiled now (and stored). `hit` says
    /// which.
    public func filter(for policy: SeccompPolicy) throws(SeccompCompileError) -> (filter: SeccompFilter, hit: Bool) {
        let key = key(for: policy)
        let usable = prepareDirectory()
        if usable, let cached = load(key: key, policy: policy) { return (cached, true) }
        let filter = try SeccompCompiler.compile(policy)
        if usable { store(filter, key: key) }
        return (filter, false)
    }

    func entryPath(_ key: String) -> String { directory + "/" + key + ".filter" }

    /// Whether the directory exists (or was created) as the caller's own, 0700-like.
    func prepareDirectory() -> Bool {
        if mkdir(directory, 0o700) != 0, errno != EEXIST { return false }
        var st = stat()
        guard lstat(directory, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR && st.st_uid == geteuid() && st.st_mode & 0o022 == 0
    }

    /// A valid entry for `key`, or nil.
    func load(key: String, policy: SeccompPolicy) -> SeccompFilter? {
        guard let body = readEntry(entryPath(key)) else { return nil }
        return SeccompFilterArchive.decode(body, key: key, policy: policy)
    }

    /// The body of the entry file at `path` when the file is the caller's own regular file,
    /// not group/other writable, at most `maxEntryBytes`, and its first line is the SHA-256 of
    /// the rest; else nil.
    func readEntry(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid(), st.st_mode & 0o022 == 0,
              st.st_size > 0, st.st_size <= Self.maxEntryBytes else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        guard let newline = bytes.firstIndex(of: 0x0A) else { return nil }
        let header = String(decoding: bytes[..<newline], as: UTF8.self)
        let body = Array(bytes[(newline + 1)...])
        guard header == Self.magic + " " + Digest.sha256Hex(body) else { return nil }
        return body
    }

    /// Free space the audit log's filesystem keeps after a store.
    static let reservedBytes = 32 << 20

    /// Whether `bytes` more leave `reservedBytes` free on the cache's filesystem.
    func roomFor(_ bytes: Int) -> Bool {
        var st = statvfs()
        guard statvfs(directory, &st) == 0 else { return false }
        let free = UInt64(st.f_bavail) &* UInt64(st.f_frsize)
        return free >= UInt64(bytes) + UInt64(Self.reservedBytes)
    }

    /// Writes the entry (a new file renamed into place; losing it costs only a compile).
    func store(_ filter: SeccompFilter, key: String) {
        writeEntry(SeccompFilterArchive.encode(filter, key: key), to: entryPath(key), key: key)
    }

    /// Writes `body` under its header as `path` (a new file renamed into place), when there
    /// is room; prunes after a store.
    func writeEntry(_ body: [UInt8], to path: String, key: String) {
        guard !body.isEmpty else { return }
        let bytes = Array((Self.magic + " " + Digest.sha256Hex(body) + "\n").utf8) + body
        guard roomFor(bytes.count) else { return }
        let temp = directory + "/." + key + ".\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        close(fd)
        if done == bytes.count, rename(temp, path) == 0 {
            prune()
            return
        }
        unlink(temp)
    }

    /// The most entries kept; past it, a store removes the least recently written down to
    /// three quarters (each policy version adds one, and learn adds one per run).
    static let maxEntries = 256

    /// Keeps the directory bounded (called after a store, so never on a cache hit's path).
    func prune() {
        guard let dir = opendir(directory) else { return }
        var entries: [(name: String, mtime: Int)] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            guard name.hasSuffix(".filter") || name.hasSuffix(".plan") else { continue }
            var st = stat()
            guard lstat(directory + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            entries.append((name, st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec))
        }
        closedir(dir)
        guard entries.count > Self.maxEntries else { return }
        for e in entries.sorted(by: { $0.mtime < $1.mtime }).prefix(entries.count - Self.maxEntries * 3 / 4) {
            unlink(directory + "/" + e.name)
        }
    }
}
