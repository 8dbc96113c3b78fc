import WardenCompiler
import WardenPolicy
import WardenWorkloads
#if canImport(Glibc)
import Glibc
#endif

/// `warden doctor`'s "workloads" section: for each stock policy of the workload matrix,
/// which workloads of the catalog (`WorkloadCatalog`) it supports on this machine: the
/// workload's tools are on PATH, and the policy's static decisions (the code behind `warden
/// explain`) allow running them and every access the workload needs.
struct WorkloadReport {
    struct Cell {
        var policy: String
        /// nil when the policy does not fit the workload (a read-only policy, a writing workload).
        var support: WorkloadSupport?
        /// Why the policy could not be judged (missing or invalid file).
        var problem: String?

        var mark: String {
            if problem != nil { return "error" }
            guard let support else { return "-" }
            switch support.verdict {
            case .supported: return "yes"
            case .denied: return "NO"
            case .missingTool: return "no-tool"
            }
        }
    }

    struct Row {
        var workload: Workload
        var cells: [Cell]
    }

    var directory: String
    /// The matrix policies found in `directory` (the columns).
    var policies: [String]
    var rows: [Row]

    /// Judges every catalog workload against every matrix policy in `directory`, looking
    /// tools up in `path` (the PATH `warden run` would pass on) with `home` as `${home}`.
    /// nil when the directory holds none of the matrix's policies.
    static func evaluate(directory: String, path: String, home: String) -> WorkloadReport? {
        let present = WorkloadCatalog.policies.filter { access(directory + "/" + $0 + ".warden", F_OK) == 0 }
        guard !present.isEmpty else { return nil }
        enum Loaded { case policy(EffectivePolicy), problem(String) }
        var effective: [String: Loaded] = [:]
        for name in present {
            let file = directory + "/" + name + ".warden"
            do {
                let analysis = try PolicyLoader().analyze(file)
                if let first = analysis.diagnostics.first(where: { $0.severity == .error }) {
                    effective[name] = .problem("\(file): \(first.message)")
                } else {
                    effective[name] = .policy(try EffectivePolicy(policy: analysis.policy, identity: name))
                }
            } catch {
                effective[name] = .problem("\(file): \(error)")
            }
        }
        let rows = WorkloadCatalog.all.map { w in
            Row(workload: w, cells: present.map { name in
                guard w.fits(name) else { return Cell(policy: name, support: nil, problem: nil) }
                switch effective[name] {
                case .policy(let p)?: return Cell(policy: name, support: WorkloadSupport.assess(w, policy: p, path: path, home: home))
                case .problem(let why)?: return Cell(policy: name, support: nil, problem: why)
                case nil: return Cell(policy: name, support: nil, problem: "not assessed")
                }
            })
        }
        return WorkloadReport(directory: directory, policies: present, rows: rows)
    }

    func textLines() -> [String] {
        let nameWidth = max(10, (rows.map(\.workload.name.count).max() ?? 0) + 2)
        let widths = policies.map { max($0.count, 7) + 2 }
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
        var lines = ["    workloads supported here (tools on PATH; each access decided as `warden explain` decides it)"]
        lines.append("      " + pad("", nameWidth) + zip(policies, widths).map { pad($0, $1) }.joined())
        for row in rows {
            lines.append("      " + pad(row.workload.name, nameWidth) + zip(row.cells, widths).map { pad($0.mark, $1) }.joined())
        }
        lines.append("      (yes: supported; NO: an access is denied; no-tool: a tool is not on PATH; -: the policy does not fit)")
        // Each reason once per workload, with the policies it holds for.
        for row in rows {
            var reasons: [(text: String, policies: [String], explain: String?)] = []
            for cell in row.cells {
                let text: String
                var explain: String?
                if let problem = cell.problem {
                    text = problem
                } else if let s = cell.support, s.verdict != .supported {
                    text = s.reason
                    explain = s.denials.first.map { "warden explain \(directory)/\(cell.policy).warden \($0.requirement.explainArguments)" }
                } else { continue }
                if let i = reasons.firstIndex(where: { $0.text == text }) { reasons[i].policies.append(cell.policy) }
                else { reasons.append((text, [cell.policy], explain)) }
            }
            for r in reasons {
                lines.append("      \(row.workload.name) under \(r.policies.joined(separator: ", ")): \(shown(r.text))")
                if let explain = r.explain { lines.append("        see: \(shown(explain))") }
            }
        }
        return lines
    }

    func json(_ str: (String) -> String) -> String {
        func arr(_ a: [String]) -> String { "[" + a.map(str).joined(separator: ", ") + "]" }
        let list = rows.map { row in
            let cells = row.cells.map { c -> String in
                var f = ["\"policy\": \(str(c.policy))"]
                if let problem = c.problem {
                    f.append("\"verdict\": \"error\", \"problem\": \(str(problem))")
                } else if let s = c.support {
                    let denied = s.denials.map {
                        "{\"requirement\": \(str("\($0.requirement)")), \"why\": \(str($0.requirement.why)), "
                            + "\"decided_by\": \(str($0.decidedBy)), \"explain\": \(str("warden explain \(directory)/\(c.policy).warden \($0.requirement.explainArguments)"))}"
                    }
                    f.append("\"verdict\": \(str(s.verdict.rawValue)), \"missing_tools\": \(arr(s.missingTools)), \"denied\": [\(denied.joined(separator: ", "))]")
                } else {
                    f.append("\"verdict\": \"does-not-fit\"")
                }
                return "{" + f.joined(separator: ", ") + "}"
            }
            return "{\"workload\": \(str(row.workload.name)), \"title\": \(str(row.workload.title)), "
                + "\"tools\": \(arr(row.workload.tools)), \"cells\": [\(cells.joined(separator: ", "))]}"
        }
        return "{\"directory\": \(str(directory)), \"policies\": \(arr(policies)), \"workloads\": [" + list.joined(separator: ", ") + "]}"
    }
}
