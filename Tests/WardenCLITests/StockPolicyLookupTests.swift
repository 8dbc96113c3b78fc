import Foundation
import Testing

/// Where an installed binary finds the stock policies (Sources/warden/StockPolicies.swift):
/// `doctor` and `run --policy NAME` with the binary placed as the release tarball and the
/// .deb place it (`PREFIX/bin/warden` next to `PREFIX/share/warden/policies`).
@Suite("stock policy lookup of an installed binary")
struct StockPolicyLookupTests {
    /// A release-tarball-like tree: PREFIX/bin/warden (a hard link to, or a copy of, the built
    /// binary) and PREFIX/share/warden/policies with the repository's default and base.
    struct Prefix {
        let root: String
        var binary: String { root + "/bin/warden" }
        var policies: String { root + "/share/warden/policies" }

        init(extraPolicies: [String: String] = [:]) throws {
            root = try WardenBinary.tempDir("prefix")
            let fm = FileManager.default
            try fm.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: root + "/share/warden/policies", withIntermediateDirectories: true)
            try placeBinary(at: root + "/bin/warden")
            for name in ["default.warden", "base.warden"] {
                try fm.copyItem(atPath: WardenBinary.root + "/policies/" + name, toPath: root + "/share/warden/policies/" + name)
            }
            for (name, text) in extraPolicies {
                try text.write(toFile: root + "/share/warden/policies/" + name, atomically: false, encoding: .utf8)
            }
            // The sandbox reads the policy tree as the agent's world may; keep it like an install.
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root)
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    static func placeBinary(at path: String) throws {
        do { try FileManager.default.linkItem(atPath: WardenBinary.path, toPath: path) } catch {
            try FileManager.default.copyItem(atPath: WardenBinary.path, toPath: path)
        }
    }

    static func stockDirectory(_ doctorJSON: String) throws -> (directory: String?, problem: String?) {
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(doctorJSON.utf8)) as? [String: Any])
        let stock = try #require(obj["stock_policies"] as? [String: Any])
        return (stock["directory"] as? String, stock["problem"] as? String)
    }

    var built: Bool {
        if FileManager.default.isExecutableFile(atPath: WardenBinary.path) { return true }
        print("skip: \(WardenBinary.path) not built")
        return false
    }

    @Test func tarballLayoutFindsItsOwnPolicies() throws {
        guard built else { return }
        let prefix = try Prefix()
        defer { prefix.remove() }
        let r = try CLISupport.run(prefix.binary, ["doctor", "--format", "json"], in: prefix.root)
        #expect(try Self.stockDirectory(r.stdout).directory == prefix.policies, "\(r.stdout)\n\(r.stderr)")

        // Through a symbolic link elsewhere (a link on PATH): still the tree's own policies.
        let links = try WardenBinary.tempDir("links")
        defer { try? FileManager.default.removeItem(atPath: links) }
        try FileManager.default.createSymbolicLink(atPath: links + "/warden", withDestinationPath: prefix.binary)
        let viaLink = try CLISupport.run(links + "/warden", ["doctor", "--format", "json"], in: links)
        #expect(try Self.stockDirectory(viaLink.stdout).directory == prefix.policies, "\(viaLink.stdout)")
    }

    @Test func loneBinaryFallsBackToTheSystemDirectoryOrNamesWhereItLooked() throws {
        guard built else { return }
        let dir = try WardenBinary.tempDir("lone")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.placeBinary(at: dir + "/warden")
        let r = try CLISupport.run(dir + "/warden", ["doctor", "--format", "json"], in: dir)
        let (directory, problem) = try Self.stockDirectory(r.stdout)
        let system = ["/usr/local/share/warden/policies", "/usr/share/warden/policies"]
            .first { FileManager.default.isReadableFile(atPath: $0 + "/default.warden") }
        if let system {
            #expect(directory == system)
        } else {
            #expect(directory == nil)
            let text = try #require(problem)
            #expect(text.contains("/usr/share/warden/policies") && text.contains(dir + "/policies") && text.contains("--policies DIR"), "\(text)")
            let plain = try CLISupport.run(dir + "/warden", ["doctor"], in: dir)
            #expect(plain.stdout.contains("stock policies not found: no default.warden in "), "\(plain.stdout)")
        }
    }

    @Test func policyNameIsLookedUpAmongTheStockPolicies() throws {
        guard built else { return }
        let broken = "warden 1\nidentity broken {\n  allow fs raed \"/x\"\n}\n"
        let prefix = try Prefix(extraPolicies: ["broken.warden": broken])
        defer { prefix.remove() }
        let cwd = try WardenBinary.tempDir("cwd")
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        let state = try WardenBinary.tempDir("audit")  // out of the workspace (cwd): the run refuses an audit log there
        defer { try? FileManager.default.removeItem(atPath: state) }
        let audit = ["--audit-log", state + "/audit.jsonl", "-q"]

        // A bare name and NAME.warden both find the stock file: its diagnostics name it.
        for name in ["broken", "broken.warden"] {
            let r = try CLISupport.run(prefix.binary, ["run", "--policy", name] + audit + ["--", "/bin/true"], in: cwd)
            #expect(r.status == 125, "\(name): \(r.stderr)")
            #expect(r.stderr.contains(prefix.policies + "/broken.warden"), "\(name): \(r.stderr)")
        }

        // The stock default launches a real run under `--policy default`.
        let ok = try CLISupport.run(prefix.binary, ["run", "--policy", "default"] + audit + ["--", "/bin/true"], in: cwd,
                                    environment: ["PATH": "/usr/bin:/bin", "HOME": cwd])
        #expect(ok.status == 0, "\(ok.stderr)")

        // A file of that name in the current directory wins; a path with a slash is a path.
        try "warden 1\nidentity local {\n  allow fs raed \"/y\"\n}\n".write(toFile: cwd + "/broken.warden", atomically: false, encoding: .utf8)
        let local = try CLISupport.run(prefix.binary, ["run", "--policy", "broken.warden"] + audit + ["--", "/bin/true"], in: cwd)
        #expect(local.status == 125 && !local.stderr.contains(prefix.policies), "\(local.stderr)")
        let slash = try CLISupport.run(prefix.binary, ["run", "--policy", "./default"] + audit + ["--", "/bin/true"], in: cwd)
        #expect(slash.status == 125 && !slash.stderr.contains(prefix.policies), "\(slash.stderr)")

        // An unknown name stays as given: the loader says it cannot read it.
        let missing = try CLISupport.run(prefix.binary, ["run", "--policy", "nosuch"] + audit + ["--", "/bin/true"], in: cwd)
        #expect(missing.status == 125 && missing.stderr.contains("nosuch"), "\(missing.stderr)")
    }
}
