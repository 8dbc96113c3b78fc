import Foundation
import Testing

/// Background agents run as fleets: many `warden run`s at once on one host, one audit log,
/// while unrelated programs churn /tmp. The launch scans nothing on the host, so nothing
/// that appears or vanishes meanwhile can fail it.
@Suite("Many agents at once", .serialized)
struct ConcurrentRunsTests {
    @Test func thirtyTwoFloodingRunsWithOneLogWhileTmpChurns() throws {
        guard geteuid() == 0 else { print("skip: needs root for the sandbox's namespaces"); return }
        guard FileManager.default.isExecutableFile(atPath: WardenBinary.path) else { print("skip: warden not built"); return }
        let dir = try WardenBinary.tempDir("fleet")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = dir + "/audit/audit.jsonl"
        try FileManager.default.createDirectory(atPath: dir + "/audit", withIntermediateDirectories: true)
        let keygen = try #require(try WardenBinary.run(["audit", "keygen", "--output", dir + "/audit/key"]))
        #expect(keygen.status == 0, "\(keygen.stderr)")

        // Churn: directories and files appear and vanish in /tmp during the launches.
        let stop = ManagedFlag()
        let churn = Thread {
            var i = 0
            while !stop.isSet {
                let p = "/tmp/warden-churn-\(getpid())-\(i % 64)"
                mkdir(p, 0o700); rmdir(p)
                let f = open(p + ".f", O_CREAT | O_WRONLY, 0o600); if f >= 0 { close(f) }; unlink(p + ".f")
                i += 1
            }
        }
        churn.start()
        defer { stop.set() }

        // Each agent floods: 2,000 denied syscalls, counted exactly in the trail per run.
        let flood = dir + "/flood"
        try """
        #include <stdio.h>
        #include <sys/syscall.h>
        #include <unistd.h>
        int main(void) {
            int denied = 0;
            for (int i = 0; i < 2000; i++) if (syscall(SYS_ptrace, 0x4206, 1, 0, 0) != 0) denied++;
            return denied == 2000 ? 0 : 1;
        }
        """.write(toFile: flood + ".c", atomically: true, encoding: .utf8)
        let cc = try CLISupport.run("/usr/bin/cc", ["-O2", "-o", flood, flood + ".c"])
        try #require(cc.status == 0, "cannot compile the flood probe: \(cc.stderr)")

        let count = 32
        var processes: [Process] = []
        for i in 0..<count {
            let ws = dir + "/ws\(i)"
            try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: flood, toPath: ws + "/flood")  // the host's /tmp is not in the agent's world
            let p = Process()
            p.executableURL = URL(fileURLWithPath: WardenBinary.path)
            p.arguments = ["run", "-q", "--policy", WardenBinary.root + "/policies/default.warden", "--workspace", ws,
                           "--audit-log", log, "--signing-key", dir + "/audit/key.key", "--", "/bin/sh", "-c", "echo work > out.txt && cat out.txt >/dev/null && ./flood"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            processes.append(p)
        }
        for p in processes { try p.run() }
        for p in processes { p.waitUntilExit() }
        stop.set()
        let statuses = processes.map(\.terminationStatus)
        #expect(statuses.allSatisfy { $0 == 0 }, "exit statuses: \(statuses)")
        for i in 0..<count {
            #expect((try? String(contentsOfFile: dir + "/ws\(i)/out.txt", encoding: .utf8)) == "work\n", "run \(i) did not do its work")
        }
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.components(separatedBy: "\"kind\":\"run.start\"").count - 1 == count)
        #expect(text.components(separatedBy: "\"kind\":\"run.exit\"").count - 1 == count)
        // Every run's denials are all there: the records' counts add up to 2,000 per run.
        var perRun: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.contains("\"kind\":\"deny.syscall\"") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let fields = try #require(object["fields"] as? [String: Any])
            perRun[object["run"] as? String ?? "", default: 0] += fields["count"] as? Int ?? 0
        }
        #expect(perRun.count == count && perRun.values.allSatisfy { $0 == 2000 }, "denials per run: \(perRun.values.sorted())")
        let verify = try #require(try WardenBinary.run(["audit", "verify", log, "--public-key", dir + "/audit/key.pub"]))
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}

/// A flag shared with the churn thread.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

/// Runs sharing one workspace keep each other's protections: a run that ends while another
/// still runs must not remove the placeholders the other's read-only mounts sit on.
@Suite("One workspace, several runs", .serialized)
struct SharedWorkspaceTests {
    @Test func concurrentRunsInOneWorkspaceKeepTheirProtections() throws {
        if let why = Escape.unavailable { print("skip: \(why)"); return }
        let s = try Scratch(git: true)
        defer { s.remove() }
        let short = Process()
        short.executableURL = URL(fileURLWithPath: Escape.warden)
        short.arguments = ["run", "-q", "--policy", s.policy, "--workspace", s.workspace, "--audit-log", s.auditLog,
                           "--", "/bin/sh", "-c", "sleep 1"]
        short.standardOutput = FileHandle.nullDevice
        short.standardError = FileHandle.nullDevice
        try short.run()
        usleep(300_000)
        // The other run tries, for 3 s (the first run ends meanwhile), to redirect git.
        let run = try s.run(["/bin/sh", "-c", """
            i=0; wrote=0
            while [ $i -lt 30 ]; do
              printf '../evil\\n' > .git/commondir 2>/dev/null && wrote=$((wrote+1))
              sleep 0.1; i=$((i+1))
            done
            echo "wrote=$wrote"
            """])
        short.waitUntilExit()
        #expect(run.output.contains("wrote=0"), "\(run.output)")
        let commondir = try? String(contentsOfFile: s.workspace + "/.git/commondir", encoding: .utf8)
        #expect(commondir == nil || commondir == ".\n", "commondir on the host: \(commondir ?? "")")
    }
}
