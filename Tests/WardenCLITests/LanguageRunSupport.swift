import Foundation
import Testing

/// A scratch workspace, audit log and policy for the language-feature run tests (`env set`
/// variables, memory limits, `create` grants, `explain` against a real run).
struct LanguageRunFixture {
    let root: String
    let workspace: String
    let log: String
    let policy: String

    /// `body` is the identity's statements; the identity can run /usr tools and programs in
    /// its workspace, and write its workspace and `${tmp}`.
    init(_ tag: String, body: String, workspaceWritable: Bool = true) throws {
        root = try WardenBinary.tempDir(tag)
        workspace = root + "/ws"
        log = root + "/audit/audit.jsonl"
        policy = root + "/policy.warden"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/audit", withIntermediateDirectories: true)
        let ws = workspaceWritable ? "allow fs read, write, exec \"${workspace}\"" : "allow fs read, exec \"${workspace}\""
        try """
        warden 1
        identity agent {
          allow syscall @default
          allow fs read, exec "/usr", "/bin", "/lib", "/lib64", "/etc"
          allow fs read, write "/dev/null"
          allow fs read, write "${tmp}"
          \(ws)
        \(body)
        }

        """.write(toFile: policy, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// `warden run` of `command` in the workspace.
    func run(_ command: [String], extra: [String] = []) throws -> WardenBinary.Result? {
        try WardenBinary.run(["run", "--policy", policy, "--workspace", workspace, "--audit-log", log, "--timeout", "120s"]
                             + extra + ["--"] + command)
    }

    /// The `fields` of this log's last record of `kind`.
    func lastRecord(_ kind: String) -> [String: Any]? {
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        for line in lines.reversed() {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if obj["kind"] as? String == kind { return obj["fields"] as? [String: Any] ?? obj }
        }
        return nil
    }

    /// Compiles `source` (C) into the workspace as `name`; nil, with the reason printed, when
    /// there is no C compiler.
    func compile(_ name: String, _ source: String) throws -> String? {
        let c = workspace + "/\(name).c"
        try source.write(toFile: c, atomically: true, encoding: .utf8)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") else {
            print("skip: no C compiler at /usr/bin/cc")
            return nil
        }
        let r = try CLISupport.run("/usr/bin/cc", ["-O1", "-o", workspace + "/" + name, c])
        guard r.status == 0 else { print("skip: cannot compile \(name): \(r.stderr)"); return nil }
        return "./" + name
    }
}

/// What `limit memory` gets on this host, from `warden doctor --format json`
/// ("cgroup-v2", "cgroup-v1" or "none"); nil when the binary is missing.
func memoryMechanism() throws -> (mechanism: String, detail: String)? {
    guard let r = try WardenBinary.run(["doctor", "--format", "json"]) else { return nil }
    guard let obj = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
          let m = obj["limit_memory"] as? [String: Any], let mechanism = m["mechanism"] as? String else { return nil }
    return (mechanism, (m["directory"] as? String) ?? (m["reason"] as? String) ?? "")
}

/// A program for the memory tests: `touch N` writes N MiB (16 MiB at a time, printing the
/// total so far); `reserve` maps 64 GiB PROT_NONE with MAP_NORESERVE, as AddressSanitizer
/// does for its shadow, and prints `reserved` or `failed ERRNO`.
let memoryProbeSource = #"""
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "reserve") == 0) {
        void *p = mmap(NULL, 64UL << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) { printf("failed %d\n", errno); return 1; }
        printf("reserved\n");
        return 0;
    }
    long mib = argc > 2 ? atol(argv[2]) : 0;
    for (long done = 0; done < mib; done += 16) {
        char *p = malloc(16 << 20);
        if (!p) { printf("malloc failed at %ld MiB\n", done); return 3; }
        memset(p, 1, 16 << 20);
        printf("%ld\n", done + 16);
        fflush(stdout);
    }
    printf("touched\n");
    return 0;
}
"""#
