import Foundation
import Testing

/// `env set` variables, `create` grants and `warden explain` against what a real run
/// observes, checked from the host.
@Suite(.serialized) struct LanguageRunCLITests {
    @Test func envSetVariablesExpandToTheAgentsViewOfThePaths() throws {
        let f = try LanguageRunFixture("env", body: """
          env set CACHE = "${tmp}/cache"
          env set OUT = "${workspace}/out"
          env set LIT = "$${tmp} $HOME"
        """)
        defer { f.remove() }
        guard let r = try f.run(["/bin/sh", "-c", "echo \"$CACHE|$OUT|$LIT\""]) else { return }
        let ws = URL(fileURLWithPath: f.workspace).resolvingSymlinksInPath().path
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "/tmp/cache|\(ws)/out|${tmp} $HOME\n", "\(r.stdout)")
    }

    @Test func anUnknownVariableInEnvSetIsACheckerError() throws {
        let f = try LanguageRunFixture("env-bad", body: "  env set CACHE = \"${tpm}/cache\"")
        defer { f.remove() }
        guard let r = try WardenBinary.run(["lint", f.policy]) else { return }
        #expect(r.status != 0)
        let all = r.stdout + r.stderr
        #expect(all.contains("unknown-variable") && all.contains("${tpm}") && all.contains("did you mean `${tmp}`?"), "\(all)")
        guard let run = try f.run(["/bin/true"]) else { return }
        #expect(run.status == 125, "\(run.stderr)")
    }

    static let createBody = "  allow fs read, write \"${workspace}/.github/workflows\" create"

    @Test func aCreateGrantMakesItsDirectoriesAndTheAgentWritesThere() throws {
        let f = try LanguageRunFixture("create", body: Self.createBody, workspaceWritable: false)
        defer { f.remove() }
        guard let r = try f.run(["/bin/sh", "-c", "echo 'on: push' > .github/workflows/ci.yml && echo ok; echo x > other 2>/dev/null || echo refused"]) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "ok\nrefused\n", "\(r.stdout)")
        #expect((try? String(contentsOfFile: f.workspace + "/.github/workflows/ci.yml", encoding: .utf8)) == "on: push\n")
        #expect(!FileManager.default.fileExists(atPath: f.workspace + "/other"))
        let start = f.lastRecord("run.start")
        let ws = URL(fileURLWithPath: f.workspace).resolvingSymlinksInPath().path
        #expect(start?["created_paths"] as? [String] == [ws + "/.github", ws + "/.github/workflows"], "\(String(describing: start))")
        // A second run finds them and creates nothing.
        guard let again = try f.run(["/bin/true"]) else { return }
        #expect(again.status == 0)
        #expect(f.lastRecord("run.start")?["created_paths"] == nil)
    }

    @Test func asRootCreatedDirectoriesBelongToTheWorkspacesOwner() throws {
        guard geteuid() == 0 else { print("skip: ownership is handed over only when Warden runs as root"); return }
        let f = try LanguageRunFixture("create-owner", body: Self.createBody, workspaceWritable: false)
        defer { f.remove() }
        #expect(chown(f.workspace, 65534, 65534) == 0)
        guard let r = try f.run(["/bin/true"]) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        for dir in [".github", ".github/workflows"] {
            var st = stat()
            #expect(stat(f.workspace + "/" + dir, &st) == 0 && st.st_uid == 65534 && st.st_gid == 65534, "\(dir)")
        }
    }

    /// Attack: an earlier run planted `.github -> DIR` (DIR standing in for /etc). The launch
    /// is refused and nothing is created through the link.
    @Test func aSymlinkOnTheWayToACreateGrantRefusesTheLaunch() throws {
        let f = try LanguageRunFixture("create-link", body: Self.createBody, workspaceWritable: false)
        defer { f.remove() }
        let target = f.root + "/etc-standin"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: f.workspace + "/.github", withDestinationPath: target)
        guard let r = try f.run(["/bin/true"]) else { return }
        #expect(r.status == 125, "\(r.stderr)")
        #expect(r.stderr.contains("symbolic link"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty, "nothing created through the link")
        // The same with the link pointing at the real /etc: /etc/workflows never appears.
        try FileManager.default.removeItem(atPath: f.workspace + "/.github")
        try FileManager.default.createSymbolicLink(atPath: f.workspace + "/.github", withDestinationPath: "/etc")
        guard let r2 = try f.run(["/bin/true"]) else { return }
        #expect(r2.status == 125, "\(r2.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/etc/workflows"))
    }

    @Test func createOnAPathTheIdentityMayNotWriteIsRefused() throws {
        let f = try LanguageRunFixture("create-git", body: """
          allow fs read, write "${workspace}/.git/hooks" create
          deny fs write "${workspace}/.git"
        """)
        defer { f.remove() }
        guard let r = try f.run(["/bin/true"]) else { return }
        #expect(r.status == 125, "\(r.stderr)")
        #expect(r.stderr.contains("may not write there"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: f.workspace + "/.git"))
    }

    /// A probe for `explain` agreement: `probe read|write|exec PATH` prints `OK` or the errno
    /// name the agent got (a directory is read by listing it).
    static let accessProbe = #"""
    #include <dirent.h>
    #include <errno.h>
    #include <fcntl.h>
    #include <stdio.h>
    #include <string.h>
    #include <sys/stat.h>
    #include <unistd.h>
    static int report(int ok) {
        if (ok) { puts("OK"); return 0; }
        const char *n = errno == ENOENT ? "ENOENT" : errno == EROFS ? "EROFS" : errno == EACCES ? "EACCES" : errno == EPERM ? "EPERM" : "OTHER";
        puts(n); return 1;
    }
    int main(int argc, char **argv) {
        const char *op = argv[1], *path = argv[2];
        if (!strcmp(op, "read")) {
            struct stat st;
            if (stat(path, &st) < 0) return report(0);
            if (S_ISDIR(st.st_mode)) { DIR *d = opendir(path); return report(d != NULL); }
            return report(open(path, O_RDONLY) >= 0);
        }
        if (!strcmp(op, "write")) return report(open(path, O_WRONLY | O_CREAT, 0644) >= 0);
        char *args[] = { (char *)path, NULL };
        execv(path, args);
        return report(0);
    }
    """#

    @Test func explainSaysWhatARealRunObserves() throws {
        let f = try LanguageRunFixture("explain", body: """
          allow fs read, write "${workspace}/out"
          allow fs read, write, exec "${workspace}/bin"
          deny fs read "${workspace}/secret"
          deny fs write "${workspace}/out/frozen"
        """, workspaceWritable: false)
        defer { f.remove() }
        for d in ["out/frozen", "bin", "secret"] {
            try FileManager.default.createDirectory(atPath: f.workspace + "/" + d, withIntermediateDirectories: true)
        }
        try "s3cret\n".write(toFile: f.workspace + "/secret/key", atomically: true, encoding: .utf8)
        guard let probe = try f.compile("probe", Self.accessProbe) else { return }
        let ws = URL(fileURLWithPath: f.workspace).resolvingSymlinksInPath().path
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: f.workspace + "/bin/t")
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: f.workspace + "/out/t")
        // (explain path, the agent's path) for each access.
        let cases: [(String, String, String)] = [
            ("write", "${workspace}/file", ws + "/file"),          // read-only grant: EROFS
            ("write", "${workspace}/out/new", ws + "/out/new"),    // allowed
            ("write", "${workspace}/out/frozen/x", ws + "/out/frozen/x"), // deny: read-only bind
            ("exec", "${workspace}/out/t", ws + "/out/t"),         // noexec grant: EACCES
            ("exec", "${workspace}/bin/t", ws + "/bin/t"),         // allowed
            ("read", "/var/lib", "/var/lib"),                      // outside every grant: ENOENT
            ("read", "/", "/"),                                    // skeleton: Landlock EACCES
            ("write", "/usr/x", "/usr/x"),                         // read-only grant: EROFS
            ("read", "${workspace}/secret/key", ws + "/secret/key"), // masked: absent inside an empty dir
        ]
        for (access, policyPath, agentPath) in cases {
            guard let e = try WardenBinary.run(["explain", f.policy, "--fs", access, policyPath]) else { return }
            let said: String
            if e.stdout.hasPrefix("ALLOW") {
                said = "OK"
            } else if let range = e.stdout.range(of: "the agent gets ") {
                said = String(e.stdout[range.upperBound...].prefix { $0.isLetter })
            } else {
                said = "stand-in"
            }
            guard let r = try f.run([probe, access, agentPath]) else { return }
            // An exec that worked ran /bin/true: no output, status 0.
            let printed = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let got = printed.isEmpty && r.status == 0 ? "OK" : printed
            if said == "stand-in" {
                // A masked path: an empty directory stands in, so the file is not there.
                #expect(got == "ENOENT", "\(access) \(policyPath): explain said masked, the run got \(got)\n\(e.stdout)")
            } else {
                #expect(got == said, "\(access) \(policyPath): explain said \(said), the run got \(got)\n\(e.stdout)\n\(r.stderr)")
            }
            #expect((e.status == 0) == (got == "OK"), "explain's exit status agrees: \(e.status) for \(got)")
        }
    }

    @Test func explainDescribesTheParentsOfAGrantAndPathsTheRunCreates() throws {
        let f = try LanguageRunFixture("explain-parents", body: Self.createBody, workspaceWritable: false)
        defer { f.remove() }
        guard let e = try WardenBinary.run(["explain", f.policy, "--fs", "write", "${workspace}/.github/workflows/ci.yml"]) else { return }
        #expect(e.status == 0)
        #expect(e.stdout.contains("the run creates ${workspace}/.github/workflows"), "\(e.stdout)")
        guard let root = try WardenBinary.run(["explain", f.policy, "--fs", "read", "/"]) else { return }
        #expect(root.stdout.contains("skeleton directory") && root.stdout.contains("EACCES"), "\(root.stdout)")
        let g = try LanguageRunFixture("explain-skeleton", body: "  allow fs read \"/srv/data/set\"")
        defer { g.remove() }
        guard let p = try WardenBinary.run(["explain", g.policy, "--fs", "read", "/srv/data/set"]) else { return }
        #expect(p.stdout.contains("makes its parents /srv, /srv/data exist as read-only skeleton directories"), "\(p.stdout)")
    }
}
