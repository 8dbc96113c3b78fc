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

/// Runs `count` jobs on at most `lanes` threads at once; results in job order.
enum CellLanes {
    static func run(_ count: Int, lanes: Int, _ job: @escaping @Sendable (Int) -> WorkloadCell) -> [WorkloadCell] {
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var results: [Int: WorkloadCell] = [:]
        }
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: max(1, min(lanes, count))) { _ in
            while true {
                box.lock.lock()
                let i = box.next
                box.next += 1
                box.lock.unlock()
                guard i < count else { return }
                let r = job(i)
                box.lock.lock()
                box.results[i] = r
                box.lock.unlock()
            }
        }
        return (0..<count).compactMap { box.results[$0] }
    }
}

/// The printed matrix: rows workloads, columns policies (pass, FAIL, skip, or - where the
/// policy does not fit), then each failure and skip with its reason.
struct WorkloadMatrixTable {
    var workloads: [String]
    var policies: [String]
    var cells: [WorkloadCell]
    /// Cells where `warden doctor`'s verdict and the run disagree.
    var disagreements: [String] = []

    func render() -> String {
        let nameWidth = max(10, (workloads.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
        let widths = policies.map { $0.count + 2 }
        var lines = ["Workload matrix (warden run; pass = the workload passed and the forbidden actions stayed denied)"]
        lines.append(pad("", nameWidth) + zip(policies, widths).map { pad($0, $1) }.joined())
        for w in workloads {
            let marks = policies.map { p in cells.first { $0.workload == w && $0.policy == p }?.outcome.mark ?? "-" }
            lines.append(pad(w, nameWidth) + zip(marks, widths).map { pad($0, $1) }.joined())
        }
        let passed = cells.filter { $0.outcome == .pass }.count
        let skipped = cells.filter { $0.outcome.mark == "skip" }.count
        lines.append("\(passed) of \(cells.count - skipped) cells pass" + (skipped > 0 ? ", \(skipped) skipped" : "")
                     + String(format: " (%.0f s of runs; slowest: ", cells.map(\.seconds).reduce(0, +))
                     + cells.sorted { $0.seconds > $1.seconds }.prefix(3)
                        .map { "\($0.workload) under \($0.policy) \(Int($0.seconds.rounded())) s" }.joined(separator: ", ") + ")")
        for c in cells {
            switch c.outcome {
            case .pass: continue
            case .fail(let why): lines.append("FAIL \(c.workload) under \(c.policy): \(why)")
            case .skip(let why): lines.append("skip \(c.workload) under \(c.policy): \(why)")
            }
        }
        for d in disagreements { lines.append("doctor disagrees: \(d)") }
        if disagreements.isEmpty && !cells.isEmpty { lines.append("warden doctor predicted every cell") }
        return lines.joined(separator: "\n")
    }
}
