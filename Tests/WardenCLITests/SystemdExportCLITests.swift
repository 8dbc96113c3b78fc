import Foundation
import Testing

/// The systemd example is what scripts/export-examples.sh generates (the same on every
/// host: no host-specific paths), it passes `systemd-analyze verify`, and its
/// `systemd-analyze security` exposure is lower than the same policy run as root.
@Suite struct SystemdExportCLITests {
    static let exampleArguments = ["compile", "policies/default.warden", "--emit", "systemd", "--portable", "--allow-weaker",
                                   "--workspace", "/var/lib/agent/workspace", "--home", "/home/agent"]

    @Test func theCommittedExampleIsCurrentAndHostIndependent() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        let (status, fresh, err) = try ExportFixture.warden(Self.exampleArguments, cwd: ExportFixture.root)
        #expect(status == 0, "\(err)")
        let committed = try String(contentsOfFile: ExportFixture.root + "/examples/systemd/warden-default.conf", encoding: .utf8)
        #expect(fresh == committed, "examples/systemd/warden-default.conf is stale: run scripts/export-examples.sh")
        #expect(committed.contains("\nDynamicUser=yes\nStateDirectory=agent/workspace\n"))
        // Only the standard names are hidden: nothing that exists on this host alone.
        let hidden = committed.split(separator: "\n").filter { $0.hasPrefix("InaccessiblePaths=") }
            .flatMap { $0.dropFirst("InaccessiblePaths=".count).split(separator: " ") }
        for path in hidden {
            let top = path.dropFirst(2).split(separator: "/").first.map(String.init) ?? ""
            #expect(["etc", "var"].contains(top) || ["boot", "lib32", "libx32", "lost+found", "media", "mnt", "opt", "root", "run", "snap", "srv", "sys"].contains(top),
                    "\(path) is not a standard top-level entry")
        }
    }

    static func exposure(_ dropIn: String, in dir: String) throws -> Double? {
        let unit = dir + "/agent-\(UUID().uuidString.prefix(6)).service"
        try ExportFixture.write("[Unit]\nDescription=export test\n" + dropIn + "ExecStart=/bin/true\n", to: unit)
        let (vs, vout, verr) = try ExportFixture.run("/usr/bin/systemd-analyze", ["verify", unit])
        #expect(vs == 0 && !(vout + verr).contains("Unknown key"), "\(vout)\(verr)")
        let (_, out, err) = try ExportFixture.run("/usr/bin/systemd-analyze", ["security", "--offline=true", unit])
        guard let line = (out + err).split(separator: "\n").first(where: { $0.contains("Overall exposure level") }),
              let number = line.split(separator: ":").last?.split(separator: " ").first else { return nil }
        return Double(number)
    }

    @Test func aDynamicUserScoresBetterThanRoot() throws {
        guard ExportFixture.built else { print("skip: warden not built"); return }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else { print("skip: systemd-analyze is not installed"); return }
        let dir = try ExportFixture.tempDir("sd-user")
        let (a, dynamic, ae) = try ExportFixture.warden(Self.exampleArguments, cwd: ExportFixture.root)
        #expect(a == 0, "\(ae)")
        var root = Self.exampleArguments
        root[root.firstIndex(of: "/var/lib/agent/workspace")!] = "/srv/agent/workspace"
        let (b, asRoot, be) = try ExportFixture.warden(root, cwd: ExportFixture.root)
        #expect(b == 0 && asRoot.contains("# No User=: the service runs as root"), "\(be)")
        guard let d = try Self.exposure(dynamic, in: dir), let r = try Self.exposure(asRoot, in: dir) else {
            print("skip: this systemd-analyze has no `security --offline`")
            return
        }
        print("systemd-analyze security: DynamicUser= \(d), root \(r)")
        #expect(d < r && d <= 2.0, "DynamicUser= \(d), root \(r)")
    }
}
