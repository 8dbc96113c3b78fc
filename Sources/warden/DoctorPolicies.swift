import WardenCompiler
import WardenPolicy
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// `warden doctor`'s "which stock policies can run here": every identity of every policy
/// file in a directory, judged by `IdentityReadiness` against this kernel and user.
struct StockPolicyReport {
    struct Entry {
        var file: String
        /// nil when the file itself does not check (then `reasons` holds its first error).
        var identity: String?
        var verdict: String
        var reasons: [String]
        var notes: [String]
    }

    var directory: String?
    var entries: [Entry]
    /// Why no policy was assessed (no directory found, unreadable directory).
    var problem: String?

    static func evaluate(directory explicit: String?, support: KernelSupport) -> StockPolicyReport {
        guard let dir = explicit ?? StockPolicies.directory() else {
            let searched = StockPolicies.searchPath(executable: StockPolicies.currentExecutable())
            return StockPolicyReport(directory: nil, entries: [],
                                     problem: "not found: no default.warden in " + searched.joined(separator: ", ")
                                        + "; give a directory with --policies DIR")
        }
        guard let names = wardenFiles(in: dir) else {
            return StockPolicyReport(directory: dir, entries: [], problem: "cannot read \(dir): \(String(cString: strerror(errno)))")
        }
        let bindings = PathBindings(workspace: HostFacts.currentDirectory(),
                                    home: getenv("HOME").map { String(cString: $0) } ?? "/", tmp: "/tmp")
        let environment = HostFacts.current().environment
        var entries: [Entry] = []
        for name in names {
            let analysis: PolicyAnalysis
            do { analysis = try PolicyLoader().analyze(dir + "/" + name) } catch {
                entries.append(Entry(file: name, identity: nil, verdict: "invalid", reasons: ["\(error)"], notes: []))
                continue
            }
            if let first = analysis.diagnostics.first(where: { $0.severity == .error }) {
                entries.append(Entry(file: name, identity: nil, verdict: "invalid",
                                     reasons: ["\(first.span.file):\(first.span.start.line):\(first.span.start.column): \(first.message) (run `warden lint`)"], notes: []))
                continue
            }
            // A file without identities is a library of permission sets (base.warden).
            for identity in analysis.policy.identities.keys.sorted() {
                do {
                    let effective = try EffectivePolicy(policy: analysis.policy, identity: identity)
                    let r = IdentityReadiness.assess(effective, support: support, bindings: bindings, environment: environment)
                    entries.append(Entry(file: name, identity: identity, verdict: r.verdict.rawValue, reasons: r.reasons, notes: r.notes))
                } catch {
                    entries.append(Entry(file: name, identity: identity, verdict: "invalid", reasons: [error.description], notes: []))
                }
            }
        }
        return StockPolicyReport(directory: dir, entries: entries, problem: nil)
    }

    static func wardenFiles(in dir: String) -> [String]? {
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".warden") { names.append(name) }
        }
        return names.sorted()
    }

    func textLines() -> [String] {
        guard let dir = directory, problem == nil else { return ["    stock policies " + (problem ?? "")] }
        var lines = ["    stock policies in \(dir)"]
        let width = max(12, (entries.map { ($0.identity ?? "-").count }.max() ?? 0) + 2)
        for e in entries {
            let verdict = e.verdict.padding(12)
            let name = (e.identity ?? "-").padding(width)
            let why = e.reasons.isEmpty ? "" : ": " + e.reasons.joined(separator: "; ")
            lines.append("      \(verdict) \(name)\(e.file)\(why)")
        }
        if entries.isEmpty { lines.append("      (no policy files)") }
        // Notes (how a layer is enforced here) are usually shared: each is printed once.
        var notes: [String] = []
        for note in entries.flatMap(\.notes) where !notes.contains(note) { notes.append(note) }
        for note in notes {
            let who = entries.filter { $0.notes.contains(note) }
            let scope = who.count == entries.count ? "all" : who.map { $0.identity ?? $0.file }.joined(separator: ", ")
            lines.append("      note (\(scope)): \(note)")
        }
        return lines
    }

    func json(_ str: (String) -> String) -> String {
        func arr(_ a: [String]) -> String { "[" + a.map(str).joined(separator: ", ") + "]" }
        let list = entries.map { e in
            "{\"file\": \(str(e.file)), \"identity\": \(e.identity.map(str) ?? "null"), \"verdict\": \(str(e.verdict)), "
                + "\"reasons\": \(arr(e.reasons)), \"notes\": \(arr(e.notes))}"
        }
        return "{\"directory\": \(directory.map(str) ?? "null"), \"problem\": \(problem.map(str) ?? "null"), "
            + "\"policies\": [" + list.joined(separator: ", ") + "]}"
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
