#if canImport(Glibc)
import Glibc
#endif

/// The agent's `${home}` for one run: a fresh, writable, noexec directory of the run, seen by
/// the agent at the operator's home path (so tools with hard-coded paths still work), with
/// `HOME` pointing at it. Nothing of the real home is visible but what a rule grants (bound
/// at its place), the operator's git identity (a generated `.gitconfig`, read-only) and the
/// identity's caches (`cache` statements, see `CacheStore`).
///
/// A policy that grants `${home}` itself gets the real home with that access instead (as
/// before fresh homes existed); one that grants `${home}/.gitconfig` gets the real file.
public struct AgentHome: Sendable, Equatable {
    /// Where the agent sees its home: the operator's home, canonical.
    public var path: String
    /// The fresh directory behind it, on the host, inside the run directory.
    public var source: String
    /// The generated `.gitconfig` on the host (inside `source`), nil when the operator has no
    /// git identity configured.
    public var gitConfig: String?
    /// The identity's caches: the agent's path → the host store directory (already created).
    public var caches: [String: String]

    public init(path: String, source: String, gitConfig: String? = nil, caches: [String: String] = [:]) {
        self.path = path
        self.source = source
        self.gitConfig = gitConfig
        self.caches = caches
    }

    /// The name of the fresh home inside the run directory.
    static let directoryName = "home"

    /// Creates the fresh home (mode 0700) in the run directory `runDirectory` and, when the
    /// operator has a git identity, the generated `.gitconfig` in it (mode 0644).
    /// - Parameters:
    ///   - home: the operator's home (the agent's `${home}`).
    ///   - environment: Warden's environment (`XDG_CONFIG_HOME` locates git's second config).
    ///   - caches: the identity's caches (agent paths) and their stores (see `CacheStore`).
    public static func create(in runDirectory: String, home: String, environment: [String: String],
                              caches: [String: String] = [:]) throws(RunSetupError) -> AgentHome {
        let source = runDirectory + "/" + directoryName
        guard mkdir(source, 0o700) == 0 else {
            throw RunSetupError("cannot create the run's home \(source): \(String(cString: strerror(errno)))")
        }
        var result = AgentHome(path: AgentLaunchPlan.resolve(home) ?? home, source: source, caches: caches)
        if let identity = GitIdentity.read(home: home, environment: environment) {
            let file = source + "/.gitconfig"
            let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw RunSetupError("cannot write the run's \(file): \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            let bytes = identity.configText
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count else {
                throw RunSetupError("cannot write the run's \(file): \(String(cString: strerror(errno)))")
            }
            result.gitConfig = file
        }
        return result
    }
}
