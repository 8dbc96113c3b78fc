import Foundation
import Testing

/// An agent that hammers a denied syscall: the run finishes, the audit log stays small (an
/// aggregated record per 1,000 denials at most) and keeps the true count.
@Suite struct DenialFloodCLITests {
    static let calls = 1_000_000

    @Test func millionDenialsAreAggregatedWithTheTrueCount() throws {
        let f = try PolicyCommandsCLITests.RunFixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let source = f.workspace + "/flood.c"
        try """
        #include <stdio.h>
        #include <sys/syscall.h>
        #include <unistd.h>
        int main(void) {
            long denied = 0;
            for (long i = 0; i < \(Self.calls); i++)
                if (syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, 1, 0, 0) != 0) denied++;
            printf("denied=%ld\\n", denied);
            return 0;
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let cc = try CLISupport.run("/usr/bin/cc", ["-O2", "-o", f.workspace + "/flood", source])
        guard cc.status == 0 else {
            print("skip: cannot compile the flood probe: \(cc.stderr)")
            return
        }
        guard let r = try f.run(["./flood"]) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("denied=\(Self.calls)"))

        let lines = try String(contentsOfFile: f.log, encoding: .utf8).split(separator: "\n")
        let denials = lines.filter { $0.contains("\"kind\":\"deny.syscall\"") }
        // One record per 1,000 events at most (the durability bound), plus one per window.
        #expect(!denials.isEmpty && denials.count <= Self.calls / 1000 + 200, "aggregated into a bounded number of records, got \(denials.count)")
        var total = 0
        for line in denials {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let fields = object?["fields"] as? [String: Any]
            #expect(fields?["name"] as? String == "ptrace")
            total += (fields?["count"] as? Int) ?? 0
        }
        #expect(total == Self.calls)
        guard let v = try WardenBinary.run(["audit", "verify", f.log]) else { return }
        #expect(v.status == 3, "intact, unsigned (no key given): \(v.stdout)")
    }
}
