import Foundation
import Testing
@testable import WardenRuntime

@Suite("Unprivileged launches")
struct UnprivilegedTests {
    /// Runs the C harness as nobody: user namespace, mounts, PID/net namespaces, Landlock,
    /// capabilities, no_new_privs and seccomp without root.
    func asNobody(_ args: [String]) throws -> (Int32, String)? {
        guard geteuid() == 0 else { print("skip: needs root to switch to uid 65534"); return nil }
        guard let harness = Fixture.harness, let probe = Fixture.probe else { return nil }
        // Both binaries live in 0755 temp dirs; make sure nobody can reach them.
        for path in [harness, probe] {
            chmod((path as NSString).deletingLastPathComponent, 0o755)
        }
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else { print("skip: no setpriv"); return nil }
        let (ok, _) = try Fixture.sh(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/true"])
        guard ok == 0 else { print("skip: setpriv cannot switch users here"); return nil }
        if KernelSupport.detect().namespaces.first(where: { $0.name == "user" })?.available != true { print("skip: no user namespaces"); return nil }
        return try Fixture.sh(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", harness, "unpriv"] + args)
    }

    @Test func unprivilegedAgentStatusAndSeccomp() throws {
        guard let probe = Fixture.probe, let (st, out) = try asNobody([Fixture.probe ?? "", "seccomp"]) else { return }
        _ = probe
        #expect(st == 0, "\(out)")
        #expect(out.contains("getppid=errno:\(EPERM)"), "\(out)")
    }

    @Test func unprivilegedAgentHasNoCapabilitiesAndNoNetwork() throws {
        guard let (st, out) = try asNobody([Fixture.probe ?? "", "status", "/etc/passwd", "/tmp"]) else { return }
        #expect(st == 0, "\(out)")
        #expect(out.contains("CapEff=0000000000000000"), "\(out)")
        #expect(out.contains("CapBnd=0000000000000000"), "\(out)")
        #expect(out.contains("NoNewPrivs=1"), "\(out)")
        #expect(out.contains("mount=errno:\(EPERM)"), "\(out)")
    }

    @Test func unprivilegedLandlockDeniesWrites() throws {
        // The harness grants only read+execute on /: writing anywhere fails with EACCES.
        guard let (st, out) = try asNobody([Fixture.probe ?? "", "write", "/tmp/warden-unpriv-\(getpid())"]) else { return }
        #expect(st == 0, "\(out)")
        #expect(out.contains("write0=errno:\(EACCES)"), "\(out)")
    }

    @Test func unprivilegedStatusPropagates() throws {
        guard let (st, out) = try asNobody(["/bin/sh", "-c", "exit 7"]) else { return }
        #expect(st == 7, "\(out)")
    }

    @Test func prepareAddsAUserNamespaceWhenNotRoot() throws {
        // As root nothing is added; the rule itself is checked through `prepareLaunch`.
        let prepared = try prepareLaunch(isolated(["/bin/true"]), bestEffort: false)
        #expect(prepared.spec.namespaces.contains(.user) == (geteuid() != 0))
    }
}
