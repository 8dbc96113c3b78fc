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
/// - a host path (no variable) read only is proposed only if it exists on the host.
struct FsProposals {
    static let writeThreshold = 2
    static let readThreshold = 3

    var effective: EffectivePolicy
    var bindings: PathBindings
    /// Whether a host path exists (the proposal never grants reads of what is not there).
    var exists: (String) -> Bool

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
            let text = o.policyPath ?? bindings.policyName(of: o.path)
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
            accesses.append(Access(path: cut, access: o.access, collapsed: collapsed, original: o))
        }

        // Directories: collapsed paths name one; otherwise a parent with enough distinct files.
        var candidates: [String: Candidate] = [:]
        func add(_ path: PolicyPath, _ a: Access, directory: Bool) {
            var c = candidates[path.description] ?? Candidate(path: path, access: [], isDirectory: directory)
            c.isDirectory = c.isDirectory || directory
            c.absorb(a)
            candidates[path.description] = c
        }
        var byParent: [String: (parent: PolicyPath, writes: Set<String>, reads: Set<String>)] = [:]
        for a in accesses where !a.collapsed {
            guard let parent = Self.parent(a.path) else { continue }
            var e = byParent[parent.description] ?? (parent, [], [])
            if a.access == .write { e.writes.insert(a.path.description) } else { e.reads.insert(a.path.description) }
            byParent[parent.description] = e
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
            if let parent = Self.parent(a.path), let e = byParent[parent.description], !broad(parent),
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
        let rules = kept.map { c -> ProposedRule in
            let access = FsAccess.allCases.filter(c.access.contains).map(\.rawValue).joined(separator: ", ")
            let by = c.programs.isEmpty ? "" : " by " + c.programs.prefix(3).joined(separator: ", ") + (c.programs.count > 3 ? "..." : "")
            let files = c.isDirectory ? "\(c.files.count) file\(c.files.count == 1 ? "" : "s") under it, " : ""
            let evidence = "learned: \(files)\(c.count) access\(c.count == 1 ? "" : "es")\(by), e.g. \(c.example)"
            return ProposedRule(domain: .filesystem, text: "allow fs \(access) \"\(c.path)\"", evidence: evidence)
        }
        let skipped = notProposed.values.map { e in
            NotProposed(reason: e.reason, what: e.what + " (\(e.count) time\(e.count == 1 ? "" : "s")" + (e.programs.isEmpty ? "" : " by " + e.programs.prefix(3).joined(separator: ", ")) + ")")
        }
        return (rules, skipped)
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
