import Foundation
import Testing

/// Every policy in policies/ lints clean with `--strict` and passes its own `test` blocks.
@Suite("stock policies lint and test clean")
struct StockPolicyCheckTests {
    static let directory = WardenBinary.root + "/policies"
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { $0.hasSuffix(".warden") }.sorted()

    /// The job policies the docs promise, each with an identity of the same name.
    static let jobs = ["default", "dependency-updater", "cve-remediation", "test-coverage", "lint-fixer",
                       "code-review-triage", "ci-migration", "github-pr-author"]

    @Test func everyPromisedPolicyExists() {
        for job in Self.jobs { #expect(Self.files.contains(job + ".warden"), "missing policies/\(job).warden") }
        #expect(Self.files.contains("base.warden"))
    }

    @Test(arguments: files)
    func lintsStrict(_ file: String) throws {
        guard let r = try WardenBinary.run(["lint", "--strict", "policies/" + file]) else { return }
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.isEmpty, "\(r.stdout)")
        #expect(r.stderr.contains("0 errors, 0 warnings"), "\(r.stderr)")
    }

    @Test(arguments: files)
    func passesItsTests(_ file: String) throws {
        guard let r = try WardenBinary.run(["test", "policies/" + file]) else { return }
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let summary = r.stdout + r.stderr
        #expect(summary.contains(" 0 failed"), "\(summary)")
        if file != "base.warden" {
            // A job policy tests what it allows and what it forbids: a dozen checks at least.
            let passed = summary.split(separator: "\n").compactMap { line -> Int? in
                guard line.hasSuffix("0 failed"), let n = line.split(separator: " ").first else { return nil }
                return Int(n)
            }.first ?? 0
            #expect(passed >= 12, "\(file): only \(passed) expectations")
        }
    }

    /// Each job identity is named after its file, so `warden run --policy P` needs no --identity.
    @Test(arguments: jobs)
    func identityMatchesFile(_ job: String) throws {
        guard let r = try WardenBinary.run(["explain", "policies/\(job).warden", "--syscall", "ptrace"]) else { return }
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        #expect(r.stdout.contains("identity \(job)"), "\(r.stdout)")
    }
}
