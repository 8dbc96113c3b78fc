import ArgumentParser
import WardenAudit

#if canImport(Glibc)
import Glibc
#endif

/// Hidden: measures append (group commit) and verify throughput. Used by scripts/bench-audit.sh.
struct AuditBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure audit append and verify throughput.", shouldDisplay: false)

    @Argument(help: "A new log file to write.")
    var log: String

    @Option(help: "Records to append.") var records: Int = 100_000
    @Option(help: "Records per batch (one write + fdatasync each).") var batch: Int = 256
    @Option(name: .customLong("signing-key")) var signingKey: String?
    @Option(name: .customLong("public-key")) var publicKey: String?
    @Option(help: "Also feed this many identical denials through AuditRun's aggregator.") var denials: Int = 0

    func run() throws {
        guard records > 0, batch > 0 else { throw auditFail("--records and --batch must be positive") }
        do {
            let key = try loadSigningKey(signingKey)
            let writer = try AuditLog(path: log, signingKey: key)
            let run = AuditRun.newRunID()
            let t0 = now()
            var left = records
            var i = 0
            while left > 0 {
                let n = min(left, batch)
                var events: [AuditEvent] = []
                for _ in 0..<n {
                    let t = AuditTime.now()
                    events.append(
                        .denySyscall(
                            name: "ptrace", nr: 101, args: [0x10, UInt64(i), 0, 0, 0, 0], pid: 4242, count: Int64(i + 1),
                            first: t, last: t, errno: 1))
                    i += 1
                }
                try writer.append(events, run: run, sync: true)
                left -= n
            }
            _ = try writer.checkpoint(run: run)
            let t1 = now()
            let keys = try publicKey.map { [try AuditPublicKey.load(path: $0)] } ?? []
            let report = try AuditVerifier(publicKeys: keys).verify(path: log)
            let t2 = now()
            let mb = Double(report.bytes) / 1_000_000
            print("append: \(records) records in batches of \(batch): \(fmt(t1 - t0)) s, \(Int(Double(records) / (t1 - t0))) records/s")
            if denials > 0 {
                let agg = try AuditRun(log: writer, runID: "bench-denials")
                let args: [UInt64] = [0, 0, 0, 0, 0, 0]
                let d0 = now()
                for _ in 0..<denials { try agg.denySyscall(nr: 101, name: "ptrace", args: args, pid: 1, errno: 1) }
                let written = try agg.finish(RunExitInfo(status: 0))
                let d1 = now()
                print("denials: \(denials) identical denials in \(fmt(d1 - d0)) s (\(Int((d1 - d0) / Double(denials) * 1e9)) ns each), final batch \(written.count) records")
            }
            print("verify: \(report.bytes) bytes, \(report.records) records: \(fmt(t2 - t1)) s, \(fmt(mb / (t2 - t1))) MB/s, status \(report.statusName)")
        } catch let e as ExitCode { throw e } catch { throw auditFail("\(error)") }
    }

    private func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private func fmt(_ x: Double) -> String { String(Double(Int(x * 1000)) / 1000) }
}
