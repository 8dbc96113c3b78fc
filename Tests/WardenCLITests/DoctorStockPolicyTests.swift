import Foundation
import Testing

/// `warden doctor`'s "which stock policies can run here" agrees with what `warden run` does.
@Suite("warden doctor: stock policies")
struct DoctorStockPolicyTests {
    struct Entry {
        var file: String
        var identity: String?
        var verdict: String
        var reasons: [String]
    }

    static func entries(_ json: String) throws -> (directory: String?, entries: [Entry]) {
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let stock = try #require(obj["stock_policies"] as? [String: Any])
        let list = (stock["policies"] as? [[String: Any]] ?? []).map {
            Entry(file: $0["file"] as? String ?? "", identity: $0["identity"] as? String,
                  verdict: $0["verdict"] as? String ?? "", reasons: $0["reasons"] as? [String] ?? [])
        }
        return (stock["directory"] as? String, list)
    }

    /// Every verdict is checked against a real `warden run -- /bin/true` of that identity:
    /// ready/limited launch, best-effort launches only with --best-effort, cannot-run never.
    @Test func verdictsMatchWhatRunDoes() throws {
        // Neither doctor nor the runs get github-pr-author's token: both must call it cannot-run.
        var doctorEnvironment = ProcessInfo.processInfo.environment
        doctorEnvironment["WARDEN_GITHUB_TOKEN"] = nil
        guard let doctor = try WardenBinary.run(["doctor", "--format", "json"], environment: doctorEnvironment) else { return }
        let (directory, entries) = try Self.entries(doctor.stdout)
        #expect(directory == WardenBinary.root + "/policies")
        #expect(Set(entries.compactMap(\.identity)).isSuperset(of: StockPolicyCheckTests.jobs), "\(entries)")
        let scratch = try WardenBinary.tempDir("doctor-stock")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let env = ["PATH": "/usr/bin:/bin", "HOME": scratch]
        let workspace = scratch + "/ws"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: false)
        for e in entries {
            guard let identity = e.identity else { Issue.record("stock policy \(e.file) is invalid: \(e.reasons)"); continue }
            let base = ["run", "-q", "--policy", WardenBinary.root + "/policies/" + e.file, "--identity", identity,
                        "--audit-log", scratch + "/audit.jsonl", "--workspace", workspace]
            guard let strict = try WardenBinary.run(base + ["--", "/bin/true"], in: workspace, environment: env),
                  let lenient = try WardenBinary.run(base + ["--best-effort", "--", "/bin/true"], in: workspace, environment: env)
            else { return }
            switch e.verdict {
            case "ready", "limited":
                #expect(strict.status == 0, "\(identity) is \(e.verdict) but run says: \(strict.stderr)")
            case "best-effort":
                #expect(strict.status == 125, "\(identity): \(strict.stderr)")
                #expect(lenient.status == 0, "\(identity): \(lenient.stderr)")
                #expect(!e.reasons.isEmpty)
            case "cannot-run":
                #expect(strict.status == 125 && lenient.status == 125, "\(identity)")
            default:
                Issue.record("\(identity): unexpected verdict \(e.verdict)")
            }
        }
    }

    @Test func explicitDirectoryReportsInvalidAndLimitedPolicies() throws {
        let dir = try WardenBinary.tempDir("doctor-policies")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "warden 1\nidentity broken {\n  allow fs raed \"/x\"\n}\n".write(toFile: dir + "/broken.warden", atomically: false, encoding: .utf8)
        try """
            warden 1
            identity binder {
              description "Serves its app on port 80"
              allow fs read, exec "/usr", "/bin", "/lib", "/lib64"
              allow syscall @default
              allow capability NET_BIND_SERVICE because "binds port 80"
              limit wall-time 1m
            }

            """.write(toFile: dir + "/binder.warden", atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        guard let r = try WardenBinary.run(["doctor", "--format", "json", "--policies", dir]) else { return }
        let (directory, entries) = try Self.entries(r.stdout)
        #expect(directory == dir)
        #expect(entries.map(\.file) == ["binder.warden", "broken.warden"])
        #expect(entries.last?.verdict == "invalid" && entries.last?.identity == nil)
        #expect(entries.last?.reasons.first?.contains("broken.warden:3:") == true, "\(entries)")
        // Root can grant the capability; another user holds it only in its user namespace.
        #expect(entries.first?.verdict == (geteuid() == 0 ? "ready" : "limited"), "\(entries)")

        if geteuid() == 0 {
            let p = try CLISupport.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", WardenBinary.path,
                                                            "doctor", "--format", "json", "--policies", dir], in: "/")
            let (_, asNobody) = try Self.entries(p.stdout)
            #expect(asNobody.first?.verdict == "limited", "\(asNobody)")
            #expect(asNobody.first?.reasons.first?.contains("CAP_NET_BIND_SERVICE") == true)
        }
    }

    @Test func missingDirectoryIsAnError() throws {
        guard let r = try WardenBinary.run(["doctor", "--policies", "/nonexistent/warden-policies"]) else { return }
        #expect(r.status == 2)
        #expect(r.stderr.contains("/nonexistent/warden-policies"))
    }

    @Test func textListsEachStockIdentity() throws {
        guard let r = try WardenBinary.run(["doctor"]) else { return }
        #expect(r.stdout.contains("stock policies in \(WardenBinary.root)/policies"), "\(r.stdout)")
        for job in StockPolicyCheckTests.jobs { #expect(r.stdout.contains(" \(job) "), "missing \(job)") }
    }
}
