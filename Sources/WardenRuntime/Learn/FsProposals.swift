import WardenCompiler
import WardenPolicy

/// Turns observed file accesses into `allow fs` rules (see docs/learn.md):
/// - paths are written with `${workspace}`, `${home}`, `${tmp}` where the run bound them;
/// - an access the policy denies by a rule, a built-in or not at all for a reason other than
///   a missing grant is not proposed (only removing that rule would allow it);
/// - exec is never proposed;
/// - a path with a volatile component (`VolatileNames`) is granted at the directory holding
///   the first such component;
/// - a directory is granted instead of its files only when at least 2 distinct files under
///   it were written (`writeThreshold`) or 3 read (`readThreshold`);
/// - never `/`, a top-level host directory (`/etc`), `${home}` itself, or a directory on the
///   way to granted paths (a grant there would cover everything below it);
/// - a host path (no variable) is proposed only if it exists on the host, and not for a
///   write only asked about (`access(W_OK)`, `stat`);
/// - no write that covers Warden's own files (the audit log, its directory, the key).
struct FsProposals {
    static let writeThreshold = 2
    static let readThreshold = 3

    var effective: EffectivePolicy
    var bindings: PathBindings
    /// Whether a host path exists (the proposal never grants reads of what is not there).
    var exists: (String) -> Bool
    /// Host paths no proposed write may cover (Warden's audit log, its directory, its key).
    var protected: [String] = []

    /// One normalised access, after mapping and collapsing.
    struct Access {
        var path: PolicyPath
        var access: FsAccess
        /// The path was cut at a volatile component: it names the directory to grant.
        var collapsed: Bool
        var original: FsObservation
    }

    /// A rule in the making: a path, its accesses, the evidence.
    struct Candidate {
        var path: PolicyPath
        var access: Set<FsAccess>
        var files: Set<String> = []
        var count: Int64 = 0
        var programs: [String] = []
        var example: String = ""
        var isDirectory: Bool

        mutating func absorb(_ a: Access) {
            access.insert(a.access)
            files.insert(a.original.path)
            count += a.original.count
            if let p = a.original.program, !programs.contains(p) { programs.append(p) }
            if example.isEmpty || a.original.path < example { example = a.original.path }
        }
    }

    func propose(_ observations: [FsObservation]) -> (rules: [ProposedRule], notProposed: [NotProposed]) {
        var notProposed: [String: (reason: String, what: String, count: Int64, programs: [String])] = [:]
        func skip(_ reason: String, _ what: String, _ o: FsObservation) {
            let key = reason + "\u{0}" + what
            var entry = notProposed[key] ?? (reason, what, 0, [])
            entry.count += o.count
            if let p = o.program, !entry.programs.contains(p) { entry.programs.append(p) }
            notProposed[key] = entry
        }

        var accesses: [Access] = []
        for o in observations {
            let text = Self.lexicallyClean(o.policyPath ?? bindings.policyName(of: o.path))
            guard case .success(let path) = PolicyPath.parse(text), PolicyText.quoted(path.description, allowVariables: true) != nil else {
                skip("the path cannot be written in a policy", "\(o.access.rawValue) \(o.path)", o)
                continue
            }
            let decision = effective.decideFs(o.access, path)
            if decision.effect == .allow { continue }  // allowed; the kernel refused it for another reason
            if let rule = decision.rules.first {
                let by = rule.file == nil ? "a built-in safeguard denies it" : "denied by \(rule.location): \(rule.rule)"
                skip(by, "\(o.access.rawValue) \(path)", o)
                continue
            }
            if o.access == .exec {
                skip("exec is never widened", "exec \(path)", o)
                continue
            }
            if o.access == .read, effective.fs.contains(where: { $0.effect == .allow && $0.path.isWithin(path) && $0.path != path }) {
                skip("only the way to granted paths; a grant on it would cover everything below it", "read \(path)", o)
                continue
            }
            var cut = path
            var collapsed = false
            if let i = path.components.firstIndex(where: VolatileNames.isVolatile) {
                cut = PolicyPath(base: path.base, components: Array(path.components.prefix(i)))
                collapsed = true
            }
            if path.base == nil, !collapsed {
                // A host path the run only looked for (a PATH search, a config probed in
                // several places) or only asked about (`access(W_OK)`: gcc choosing a
                // temporary directory) is no need: granting it would change nothing the run
                // did, and a write grant on a host directory is never a guess to make.
                if !exists(path.description) {
                    skip("does not exist on the host", "\(o.access.rawValue) \(path)", o)
                    continue
                }
                if o.access != .read, let call = o.syscall, Self.probes.contains(call) {
                    skip("only asked with \(call), never done", "\(o.access.rawValue) \(path)", o)
                    continue
                }
            }
            accesses.append(Access(path: cut, access: o.access, collapsed: collapsed, original: o))
        }

        // Directories: collapsed paths name one; otherwise a parent with enough distinct files.
        // Keyed by `PolicyPath`, which compares bytes: as strings, canonically equivalent
        // names (U+212B and U+00C5 for "Å") would merge two files' accesses into one proposal.
        var candidates: [PolicyPath: Candidate] = [:]
        func add(_ path: PolicyPath, _ a: Access, directory: Bool) {
            var c = candidates[path] ?? Candidate(path: path, access: [], isDirectory: directory)
            c.isDirectory = c.isDirectory || directory
            c.absorb(a)
            candidates[path] = c
        }
        var byParent: [PolicyPath: (parent: PolicyPath, writes: Set<PolicyPath>, reads: Set<PolicyPath>)] = [:]
        for a in accesses where !a.collapsed {
            guard let parent = Self.parent(a.path) else { continue }
            var e = byParent[parent] ?? (parent, [], [])
            if a.access == .write { e.writes.insert(a.path) } else { e.reads.insert(a.path) }
            byParent[parent] = e
        }
        for a in accesses {
            if a.collapsed {
                if broad(a.path) {
                    skip("the name changes from run to run and its directory is too broad to grant", "\(a.access.rawValue) \(a.original.path)", a.original)
                } else {
                    add(a.path, a, directory: true)
                }
                continue
            }
            if let parent = Self.parent(a.path), let e = byParent[parent], !broad(parent),
               e.writes.count >= Self.writeThreshold || (a.access == .read && e.reads.count >= Self.readThreshold) {
                add(parent, a, directory: true)
            } else {
                add(a.path, a, directory: false)
            }
        }

        // Read-only host paths must exist; a path covered by a broader candidate with its
        // accesses is dropped.
        var kept: [Candidate] = []
        for c in candidates.values.sorted(by: { $0.path.description < $1.path.description }) {
            if c.path.base == nil, c.access == [.read], !exists(c.path.description) {
                notProposed["r\u{0}" + c.path.description] = ("does not exist on the host", "read \(c.path)", c.count, c.programs)
                continue
            }
            kept.append(c)
        }
        kept = kept.filter { c in
            !kept.contains { o in o.path != c.path && c.path.isWithin(o.path) && c.access.isSubset(of: o.access) }
        }
        kept.removeAll { c in
            guard c.access.contains(.write), c.path.base != .tmp else { return false }
            let host = bindings.expand(c.path)
            guard let hit = protected.first(where: { $0 == host || $0.hasPrefix(host.hasSuffix("/") ? host : host + "/") }) else { return false }
            notProposed["p\u{0}" + c.path.description] = ("it would let the agent write \(hit), Warden's audit trail", "write \(c.path)", c.count, c.programs)
            return true
        }
        let rules = kept.map { c -> ProposedRule in
            let access = FsAccess.allCases.filter(c.access.contains).map(\.rawValue).joined(separator: ", ")
            let programs = c.programs.sorted()
            let by = programs.isEmpty ? "" : " by " + programs.prefix(3).joined(separator: ", ") + (programs.count > 3 ? "..." : "")
            let files = c.isDirectory ? "\(c.files.count) file\(c.files.count == 1 ? "" : "s") under it, " : ""
            let evidence = "learned: \(files)\(c.count) access\(c.count == 1 ? "" : "es")\(by), e.g. \(c.example)"
            return ProposedRule(domain: .filesystem, text: "allow fs \(access) \"\(c.path)\"", evidence: evidence)
        }
        let skipped = notProposed.values.map { e in
            NotProposed(reason: e.reason, what: e.what + " (\(e.count) time\(e.count == 1 ? "" : "s")" + (e.programs.isEmpty ? "" : " by " + e.programs.sorted().prefix(3).joined(separator: ", ")) + ")")
        }
        return (rules, skipped)
    }

    /// Calls that only ask about a path (existence, metadata, permission) without using it.
    static let probes: Set<String> = ["access", "faccessat", "faccessat2", "stat", "lstat", "newfstatat", "statx", "statfs",
                                      "readlink", "readlinkat", "getxattr", "lgetxattr", "listxattr", "llistxattr"]

    /// `text` without `.` components and trailing slashes (`${workspace}/./` is
    /// `${workspace}`); `..` is left for `PolicyPath.parse` to refuse.
    static func lexicallyClean(_ text: String) -> String {
        guard text.contains("/.") || text.hasSuffix("/"), text.count > 1 else { return text }
        let parts = text.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let joined = parts.joined(separator: "/")
        return text.hasPrefix("/") ? "/" + joined : joined
    }

    /// The directory holding `path`; nil for a root.
    static func parent(_ path: PolicyPath) -> PolicyPath? {
        guard !path.components.isEmpty else { return nil }
        return PolicyPath(base: path.base, components: Array(path.components.dropLast()))
    }

    /// Too broad to grant as a directory: `/`, a top-level host directory, `${home}`.
    func broad(_ dir: PolicyPath) -> Bool {
        switch dir.base {
        case nil: return dir.components.count < 2
        case .home: return dir.components.isEmpty
        case .workspace, .tmp: return false
        }
    }
}
