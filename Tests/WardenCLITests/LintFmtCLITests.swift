import Foundation
import Testing

/// End-to-end tests of `warden lint` and `warden fmt` through the built binary.
@Suite struct LintFmtCLITests {
    static let root = WardenBinary.root
    static let binary = WardenBinary.path
    typealias Run = WardenBinary.Result

    func warden(_ args: [String], in directory: String? = nil, input: String? = nil) throws -> Run {
        guard let r = try WardenBinary.run(args, in: directory, input: input) else {
            throw CLIUnavailable()
        }
        return r
    }

    struct CLIUnavailable: Error {}

    func tempDir() throws -> String { try WardenBinary.tempDir("lintfmt") }

    func available() -> Bool {
        if FileManager.default.isExecutableFile(atPath: Self.binary) { return true }
        print("skip: \(Self.binary) is not built (run `make test`)")
        return false
    }

    static let clean = """
        warden 1

        identity a {
          description "clean"
          allow fs read "/usr"
          limit wall-time 1m
        }

        """
    static let warningsOnly = """
        warden 1

        identity a {
          description "one warning"
          allow syscall ptrace
          limit wall-time 1m
        }

        """

    @Test func lintExitCodes() throws {
        guard available() else { return }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.clean.write(toFile: dir + "/clean.warden", atomically: true, encoding: .utf8)
        try Self.warningsOnly.write(toFile: dir + "/warn.warden", atomically: true, encoding: .utf8)
        #expect(try warden(["lint", "clean.warden"], in: dir).status == 0)
        let warn = try warden(["lint", "warn.warden"], in: dir)
        #expect(warn.status == 0)
        #expect(warn.stdout.contains("warn.warden:5:17: warning[dangerous-grant]"))
        #expect(try warden(["lint", "--strict", "warn.warden"], in: dir).status == 1)
        #expect(try warden(["lint", "--strict", "clean.warden"], in: dir).status == 0)
        let mistakes = Self.root + "/Tests/WardenPolicyTests/Golden/lint/mistakes.warden"
        #expect(try warden(["lint", mistakes]).status == 1)
        #expect(try warden(["lint", dir + "/missing.warden"]).status == 2)
        #expect(try warden(["lint", "--format", "yaml", "clean.warden"], in: dir).status == 2)
        #expect(try warden(["lint"], in: dir).status == 2)
    }

    @Test func lintFormats() throws {
        guard available() else { return }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.warningsOnly.write(toFile: dir + "/warn.warden", atomically: true, encoding: .utf8)
        let sarif = try warden(["lint", "--format", "sarif", "warn.warden"], in: dir)
        #expect(sarif.status == 0)
        let doc = try JSONSerialization.jsonObject(with: Data(sarif.stdout.utf8)) as? [String: Any]
        #expect(doc?["version"] as? String == "2.1.0")
        // The URI is relative to the current directory.
        #expect(sarif.stdout.contains("\"uri\": \"warn.warden\""))
        #expect(sarif.stdout.contains("\"uriBaseId\": \"%SRCROOT%\""))
        let github = try warden(["lint", "--format", "github", "warn.warden"], in: dir)
        #expect(github.stdout.hasPrefix("::warning file=warn.warden,line=5,endLine=5,col=17,endColumn=23,title=dangerous-grant::"))
        let json = try warden(["lint", "--format", "json", "warn.warden"], in: dir)
        let list = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(list?.first?["code"] as? String == "dangerous-grant")
    }

    @Test func listRules() throws {
        guard available() else { return }
        let text = try warden(["lint", "--list-rules"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("dangerous-grant"))
        #expect(text.stdout.contains("unknown-syscall"))
        let json = try warden(["lint", "--list-rules", "--format", "json"])
        let list = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        let lint = list?.filter { $0["kind"] as? String == "lint" }.compactMap { $0["id"] as? String } ?? []
        #expect(lint.contains("shadowed-rule") && lint.contains("unknown-suppression"))
    }

    @Test func fmtPrintsChecksAndWrites() throws {
        guard available() else { return }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let messy = "warden 1\nidentity a{\n    allow fs read,exec \"/usr\"   # tools\n}\n"
        let tidy = "warden 1\n\nidentity a {\n  allow fs read, exec \"/usr\"  # tools\n}\n"
        let path = dir + "/a.warden"
        try messy.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o640)

        let printed = try warden(["fmt", path])
        #expect(printed.status == 0)
        #expect(printed.stdout == tidy)

        let check = try warden(["fmt", "--check", dir])
        #expect(check.status == 1)
        #expect(check.stdout == path + "\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == messy)

        #expect(try warden(["fmt", "--write", path]).status == 0)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == tidy)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o640)
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.warden"])

        let recheck = try warden(["fmt", "--check", path])
        #expect(recheck.status == 0)
        #expect(recheck.stdout.isEmpty)
    }

    @Test func fmtReadsStandardInput() throws {
        guard available() else { return }
        let r = try warden(["fmt", "-"], input: "warden 1\npermissions p{\n}\n")
        #expect(r.status == 0)
        #expect(r.stdout == "warden 1\n\npermissions p {}\n")
        #expect(try warden(["fmt", "--write", "-"], input: "").status == 2)
    }

    @Test func fmtRefusesSyntaxErrors() throws {
        guard available() else { return }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let broken = "warden 1\nidentity a {\n  alow fs read \"/usr\"\n}\n"
        let path = dir + "/b.warden"
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try warden(["fmt", "--write", path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("b.warden:3:3: error[syntax-error]"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == broken)
        #expect(try warden(["fmt", dir + "/none.warden"]).status == 2)
        #expect(try warden(["fmt", "--write", "--check", path]).status == 2)
    }
}
