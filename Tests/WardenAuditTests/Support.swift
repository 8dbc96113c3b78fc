import Foundation
import Testing

@testable import WardenAudit

/// A fresh temporary directory, removed by the caller with `cleanup()`.
struct TempDir {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path + "/warden-audit-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    func file(_ name: String) -> String { path + "/" + name }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

func readBytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

func writeBytes(_ path: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

func appendBytes(_ path: String, _ bytes: [UInt8]) throws {
    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try h.seekToEnd()
    try h.write(contentsOf: Data(bytes))
    try h.close()
}

/// Splits a log into lines, each keeping its trailing newline.
func splitLines(_ bytes: [UInt8]) -> [[UInt8]] {
    var out: [[UInt8]] = []
    var cur: [UInt8] = []
    for b in bytes {
        cur.append(b)
        if b == UInt8(ascii: "\n") {
            out.append(cur)
            cur = []
        }
    }
    if !cur.isEmpty { out.append(cur) }
    return out
}

func startInfo(_ i: Int) -> RunStartInfo {
    RunStartInfo(
        identity: "dependency-updater", policySHA256: String(repeating: "ab", count: 32),
        planSHA256: String(repeating: "cd", count: 32), argv: ["/bin/sh", "-c", "make test \(i)"],
        workspace: "/work/repo-\(i)", user: "agent", uid: 1000, host: "ci-runner-7", wardenVersion: "0.1.0",
        enforcedLayers: ["namespaces", "rlimits", "landlock", "capabilities", "seccomp"], skippedLayers: [],
        unobservedLayers: ["landlock", "capabilities"], extra: ["policy_path": "policies/updater.warden"])
}

/// Writes a realistic log through the real writer: `runs` runs, each with run.start,
/// `denialsPerRun` distinct aggregated denials (plus network records), run.exit and a signed
/// checkpoint. Records pass the 1,000 mark so automatic checkpoints appear too.
@discardableResult
func writeRealisticLog(path: String, key: AuditSigningKey?, runs: Int = 10, denialsPerRun: Int = 100) throws -> Int {
    let log = try AuditLog(path: path, signingKey: key)
    var t = AuditTime(seconds: 1_790_000_000, nanoseconds: 0)
    for r in 0..<runs {
        let run = try AuditRun(log: log, runID: "run-\(r)", maxBatch: 37, aggregationWindowNanos: 1_000_000_000_000)
        try run.start(startInfo(r))
        for d in 0..<denialsPerRun {
            t.nanoseconds = Int32((d * 7919) % 1_000_000_000)
            // Each distinct syscall number is one aggregated record; repeats just count.
            for _ in 0..<(1 + d % 3) {
                try run.denySyscall(nr: Int32(d), name: "sys\(d)", args: [UInt64(d), 0xffff_ffff_ffff_ffff, 0, 0, 0, 0], pid: 4242, errno: 1, at: t)
            }
            if d % 25 == 0 {
                try run.network(denied: true, destination: "93.184.216.34", port: 443, proto: "tcp", domain: "example.com", pid: 4243, rule: "updater.warden:12", at: t)
            }
        }
        try run.finish(RunExitInfo(status: Int32(r % 2), timedOut: false))
        t.seconds += 60
    }
    return runs
}
