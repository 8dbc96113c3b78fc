import Foundation
import Testing
import WardenWorkloads

/// The workload matrix (issue 14): every workload of `WorkloadCatalog` under every stock
/// policy it fits, each cell one `warden run` that must pass the workload and still deny
/// a forbidden action (checked from outside). Prints the matrix at the end.
///
/// Two cells run at once (CI has 2 cores). Narrow it while working with
/// `WARDEN_MATRIX_WORKLOADS=go,rust` and `WARDEN_MATRIX_POLICIES=default`; write the
/// printed matrix to a file with `WARDEN_MATRIX_REPORT=PATH`.
@Suite("Workload matrix", .serialized)
struct WorkloadMatrixTests {
    static func selected(_ variable: String, _ all: [String]) -> [String] {
        guard let v = ProcessInfo.processInfo.environment[variable], !v.isEmpty else { return all }
        let wanted = v.split(separator: ",").map(String.init)
        return all.filter { wanted.contains($0) }
    }

    @Test("every workload passes under every stock policy it fits, and forbidden actions stay denied")
    func matrix() throws {
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else {
            print("skip: \(WardenBinary.path) not built (run `swift build` first)")
            return
        }
        guard getuid() == 0 else {
            print("skip: the workload matrix launches agents with mounts and needs root")
            return
        }
        let workloads = Self.selected("WARDEN_MATRIX_WORKLOADS", WorkloadCatalog.all.map(\.name)).compactMap(WorkloadCatalog.named)
        let policies = Self.selected("WARDEN_MATRIX_POLICIES", WorkloadCatalog.policies)
        let world = try WorkloadWorld()
        defer { world.remove() }
        let jobs = workloads.flatMap { w in policies.filter(w.fits).map { (w, $0) } }
        let results = CellLanes.run(jobs.count, lanes: 2) { i in WorkloadCell.run(jobs[i].0, policy: jobs[i].1, world: world) }
        var table = WorkloadMatrixTable(workloads: workloads.map(\.name), policies: policies, cells: results)
        table.disagreements = try doctorDisagreements(results, world: world)
        print(table.render())
        if let path = ProcessInfo.processInfo.environment["WARDEN_MATRIX_REPORT"] {
            try table.render().write(toFile: path, atomically: true, encoding: .utf8)
        }
        for cell in results {
            if case .fail(let why) = cell.outcome {
                Issue.record("\(cell.workload) under \(cell.policy): \(why)")
            }
        }
        for d in table.disagreements { Issue.record("warden doctor disagrees with the run: \(d)") }
    }

    /// `warden doctor`, started with the cells' environment, must predict each cell: a
    /// workload it calls supported passes, one it says is denied fails (a skipped cell is
    /// not compared). Returns each disagreement.
    func doctorDisagreements(_ cells: [WorkloadCell], world: WorkloadWorld) throws -> [String] {
        let home = try world.makeHome(in: world.root + "/doctor")
        guard let r = try WardenBinary.run(["doctor", "--format", "json"], environment: world.environment(home: home)) else { return [] }
        let (_, _, verdicts) = try WorkloadDoctorTests.cells(r.stdout)
        var out: [String] = []
        for c in cells {
            guard let v = verdicts.first(where: { $0.workload == c.workload && $0.policy == c.policy })?.verdict else {
                out.append("\(c.workload) under \(c.policy): doctor has no verdict"); continue
            }
            switch (c.outcome, v) {
            case (.skip, _), (.pass, "supported"), (.fail, "denied"), (.fail, "missing-tool"): continue
            case (.pass, _): out.append("\(c.workload) under \(c.policy): doctor says \(v), the run passed")
            case (.fail, _): out.append("\(c.workload) under \(c.policy): doctor says \(v), the run failed")
            }
        }
        return out
    }

    @Test("the catalog matches its fixtures: every workload has prepare.sh and run.sh, every policy exists")
    func catalogMatchesFixtures() {
        let fm = FileManager.default
        #expect(WorkloadCatalog.all.count >= 9)
        #expect(Set(WorkloadCatalog.all.map(\.name)).count == WorkloadCatalog.all.count)
        for w in WorkloadCatalog.all {
            for file in ["prepare.sh", "run.sh"] {
                #expect(fm.fileExists(atPath: WorkloadWorld.fixtures + "/\(w.name)/\(file)"), "\(w.name)/\(file) is missing")
            }
            #expect(WorkloadCatalog.policies.contains(where: w.fits), "\(w.name) fits no stock policy")
        }
        for p in WorkloadCatalog.policies {
            #expect(fm.fileExists(atPath: WardenBinary.root + "/policies/\(p).warden"), "policies/\(p).warden is missing")
        }
        // A read-only policy fits only workloads that leave the workspace alone.
        #expect(WorkloadCatalog.all.filter { $0.fits("ci-migration") }.allSatisfy { !$0.writesWorkspace })
        #expect(WorkloadCatalog.all.contains { $0.fits("ci-migration") })
    }

    @Test("a cell fails when a forbidden action succeeds or the host's hook changes, even if the workload passed")
    func judgeCatchesEscapes() {
        let passing = "STEP build 0\nFORBID hook denied\nFORBID ssh-key denied\n"
        #expect(WorkloadCell.judge(.init(status: 0, stdout: passing, stderr: ""), hookUnchanged: true) == .pass)
        let planted = "STEP build 0\nFORBID hook ALLOWED\nFORBID ssh-key denied\n"
        #expect(WorkloadCell.judge(.init(status: 0, stdout: planted, stderr: ""), hookUnchanged: true) != .pass)
        #expect(WorkloadCell.judge(.init(status: 0, stdout: passing, stderr: ""), hookUnchanged: false) != .pass)
        let leaked = passing + WorkloadWorld.fakeKey + "\n"
        #expect(WorkloadCell.judge(.init(status: 0, stdout: leaked, stderr: ""), hookUnchanged: true) != .pass)
        let failedStep = "STEP build 2\n  | make: cc: Operation not permitted\nFORBID hook denied\nFORBID ssh-key denied\n"
        guard case .fail(let why) = WorkloadCell.judge(.init(status: 1, stdout: failedStep, stderr: ""), hookUnchanged: true) else {
            Issue.record("a failed step must fail the cell"); return
        }
        #expect(why.contains("make: cc: Operation not permitted"))
        #expect(WorkloadCell.judge(.init(status: 2, stdout: "", stderr: "warden: refused\n"), hookUnchanged: true) != .pass)
    }
}
