import Foundation
import Testing
import WardenWorkloads

/// `warden doctor`'s workload section: for each stock policy, which workloads of the
/// catalog it supports here, decided as `warden explain` decides.
@Suite("warden doctor: workloads")
struct WorkloadDoctorTests {
    struct Cell {
        var workload: String
        var policy: String
        var verdict: String
        var missing: [String]
        /// (requirement, decided_by, explain command)
        var denied: [(String, String, String)]
    }

    static func cells(_ json: String) throws -> (directory: String?, policies: [String], cells: [Cell]) {
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let section = try #require(obj["workloads"] as? [String: Any], "doctor printed no workloads section")
        var cells: [Cell] = []
        for row in section["workloads"] as? [[String: Any]] ?? [] {
            for c in row["cells"] as? [[String: Any]] ?? [] {
                let denied = (c["denied"] as? [[String: Any]] ?? []).map {
                    ($0["requirement"] as? String ?? "", $0["decided_by"] as? String ?? "", $0["explain"] as? String ?? "")
                }
                cells.append(Cell(workload: row["workload"] as? String ?? "", policy: c["policy"] as? String ?? "",
                                  verdict: c["verdict"] as? String ?? "", missing: c["missing_tools"] as? [String] ?? [],
                                  denied: denied))
            }
        }
        return (section["directory"] as? String, section["policies"] as? [String] ?? [], cells)
    }

    /// A PATH holding only the tools of `tools` (links to the real ones), so the test
    /// does not depend on which toolchains this machine has.
    static func toolDir(_ tools: [String], in dir: String) throws -> String {
        let bin = dir + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for t in tools {
            let found = try #require(WorkloadSupport.which(t, path: "/usr/bin:/bin"), "\(t) is not installed")
            try FileManager.default.createSymbolicLink(atPath: bin + "/" + t, withDestinationPath: found)
        }
        return bin
    }

    @Test("every catalog workload is judged for every stock policy, and a read-only policy fits only read-only workloads")
    func everyCellIsJudged() throws {
        guard let doctor = try WardenBinary.run(["doctor", "--format", "json"]) else { return }
        let (directory, policies, cells) = try Self.cells(doctor.stdout)
        #expect(directory == WardenBinary.root + "/policies")
        #expect(policies == WorkloadCatalog.policies)
        #expect(cells.count == WorkloadCatalog.all.count * WorkloadCatalog.policies.count)
        for w in WorkloadCatalog.all {
            let fit = cells.first { $0.workload == w.name && $0.policy == "ci-migration" }
            #expect(fit?.verdict == (w.writesWorkspace ? "does-not-fit" : fit?.verdict), "\(w.name): \(String(describing: fit?.verdict))")
            if w.writesWorkspace { #expect(fit?.verdict == "does-not-fit") } else { #expect(fit?.verdict != "does-not-fit") }
        }
        #expect(cells.allSatisfy { ["supported", "denied", "missing-tool", "does-not-fit"].contains($0.verdict) }, "\(cells.map(\.verdict))")
    }

    /// The doctor's answer is `warden explain`'s: every denial it reports comes with an
    /// explain command, and that command really says DENY (exit 1).
    @Test("each denial doctor reports is what `warden explain` says")
    func denialsAgreeWithExplain() throws {
        let dir = try WardenBinary.tempDir("doctor-workloads")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["PATH": "/usr/bin:/bin", "HOME": dir + "/home"]
        guard let doctor = try WardenBinary.run(["doctor", "--format", "json"], environment: env) else { return }
        let (_, _, cells) = try Self.cells(doctor.stdout)
        let denials = cells.flatMap(\.denied)
        #expect(!denials.isEmpty || cells.allSatisfy { $0.verdict != "denied" })
        for (requirement, decidedBy, command) in denials {
            #expect(!decidedBy.isEmpty)
            #expect(command.hasPrefix("warden explain "), "\(command)")
            // The command is shell words; run it through sh with the binary substituted.
            let line = WardenBinary.path + command.dropFirst("warden".count)
            let r = try CLISupport.run("/bin/sh", ["-c", line], environment: env)
            #expect(r.status == 1 && r.stdout.hasPrefix("DENY"), "\(requirement): `\(line)` said \(r.status) \(r.stdout)")
        }
    }

    /// A toolchain installed under the home (here a `go` in `~/.local/bin`) is judged as
    /// `${home}/...`, the way a policy names it: the stock default policy does not grant it.
    @Test("a tool under the home is named ${home}/... and judged by the policy")
    func toolUnderHomeIsNamedByHome() throws {
        let dir = try WardenBinary.tempDir("doctor-workloads-home")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bin = dir + "/home/.local/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\nexit 0\n".write(toFile: bin + "/go", atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/go")
        guard let doctor = try WardenBinary.run(["doctor", "--format", "json"],
                                                environment: ["PATH": bin + ":/usr/bin:/bin", "HOME": dir + "/home"]) else { return }
        let (_, _, cells) = try Self.cells(doctor.stdout)
        let go = try #require(cells.first { $0.workload == "go" && $0.policy == "default" })
        // Judged as ${home}/.local/bin/go (granted by `toolchains` since issue 14), never by
        // its host path.
        #expect(go.verdict != "missing-tool")
        #expect(!go.denied.contains { $0.0.contains(dir) }, "\(go.denied)")
    }

    /// A policy that grants what the git workload needs supports it; one that does not is
    /// NO with the requirement and rule; a PATH without git makes it missing-tool.
    @Test("a custom policy directory: supported, denied with the deciding rule, and missing tools")
    func customPolicies() throws {
        let dir = try WardenBinary.tempDir("doctor-workloads-custom")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policies = dir + "/policies"
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        let open = """
            warden 1
            identity default {
              allow fs read, exec "/usr", "/bin", "/lib", "/lib64"
              allow fs read, write, exec "${workspace}", "${tmp}"
              allow fs read "${home}/.gitconfig"
              allow syscall @default
            }

            """
        let closed = """
            warden 1
            identity test-coverage {
              allow fs read, exec "/usr", "/bin", "/lib", "/lib64"
              allow fs read, write, exec "${workspace}", "${tmp}"
              deny  fs write "${tmp}/clone" because "no clones here"
              allow syscall @default
            }

            """
        try open.write(toFile: policies + "/default.warden", atomically: false, encoding: .utf8)
        try closed.write(toFile: policies + "/test-coverage.warden", atomically: false, encoding: .utf8)
        let bin = try Self.toolDir(["git"], in: dir)
        guard let doctor = try WardenBinary.run(["doctor", "--format", "json", "--policies", policies],
                                                environment: ["PATH": bin, "HOME": dir + "/home"]) else { return }
        let (_, columns, cells) = try Self.cells(doctor.stdout)
        #expect(columns == ["default", "test-coverage"], "only the matrix policies present are columns")
        let git = cells.filter { $0.workload == "git" }
        #expect(git.first { $0.policy == "default" }?.verdict == "supported", "\(git.map { ($0.policy, $0.verdict, $0.denied.map(\.0)) })")
        let denied = try #require(git.first { $0.policy == "test-coverage" })
        #expect(denied.verdict == "denied")
        #expect(denied.denied.map(\.0) == ["write ${tmp}/clone/.git/HEAD"], "\(denied.denied)")
        #expect(denied.denied.first?.1.contains("test-coverage.warden") == true, "the deciding rule is named: \(denied.denied)")
        // go is not on this PATH.
        #expect(cells.first { $0.workload == "go" && $0.policy == "default" }?.verdict == "missing-tool")
        #expect(cells.first { $0.workload == "go" && $0.policy == "default" }?.missing == ["go"])

        // The text form shows the same, with the explain command to run.
        guard let text = try WardenBinary.run(["doctor", "--policies", policies],
                                              environment: ["PATH": bin, "HOME": dir + "/home"]) else { return }
        #expect(text.stdout.contains("git under test-coverage: write ${tmp}/clone/.git/HEAD"), "\(text.stdout)")
        #expect(text.stdout.contains("warden explain \(policies)/test-coverage.warden --fs write '${tmp}/clone/.git/HEAD'"), "\(text.stdout)")
    }
}
