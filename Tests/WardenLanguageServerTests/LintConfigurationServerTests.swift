import Foundation
import Testing
import WardenPolicy
@testable import WardenLanguageServer

/// The language server applies the `.warden-lint.toml` that `warden lint` would: the
/// nearest one walking up from the document (not above the repository root), with rule
/// severities and ignore globs, read again when it changes on disk, is saved, or is edited
/// as an open document.
@Suite struct LintConfigurationServerTests {
    /// A policy with three lint findings (missing-description, no-limits, dangerous-grant)
    /// and one checker error (unknown-syscall).
    static let policy = "warden 1\n\nidentity x {\n  allow syscall ptrace\n  allow syscall nosuchcall\n}\n"

    /// A temporary repository: `ROOT/.git/`, with files written relative to ROOT.
    struct Repo {
        let root: String

        init(outerConfig: String? = nil) throws {
            let outer = NSTemporaryDirectory() + "warden-lsp-config-\(UUID().uuidString.prefix(8))"
            root = outer + "/repo"
            try FileManager.default.createDirectory(atPath: root + "/.git", withIntermediateDirectories: true)
            if let outerConfig { try outerConfig.write(toFile: outer + "/.warden-lint.toml", atomically: true, encoding: .utf8) }
        }

        func write(_ relative: String, _ text: String) throws {
            let path = root + "/" + relative
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }

        func uri(_ relative: String) -> String { DocumentURI.uri(root + "/" + relative) }

        func remove() { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
    }

    /// code -> severity of the diagnostics published for `uri` among `messages`.
    static func codes(_ messages: [JSON], for uri: String) -> [String: Int64]? {
        guard let params = messages.last(where: { $0["method"] == .string("textDocument/publishDiagnostics") && $0["params"]?["uri"] == .string(uri) })?["params"],
              let list = params["diagnostics"]?.arrayValue else { return nil }
        var out: [String: Int64] = [:]
        for d in list { out[d["code"]?.stringValue ?? "-"] = d["severity"]?.intValue }
        return out
    }

    static func didOpen(_ uri: String, _ text: String) -> JSON {
        .object([("textDocument", .object([("uri", .string(uri)), ("languageId", .string("warden")), ("version", .int(1)), ("text", .string(text))]))])
    }

    static func didChange(_ uri: String, _ text: String, version: Int64 = 2) -> JSON {
        .object([("textDocument", .object([("uri", .string(uri)), ("version", .int(version))])),
                 ("contentChanges", .array([.object([("text", .string(text))])]))])
    }

    static func textDocument(_ uri: String) -> JSON { .object([("textDocument", .object([("uri", .string(uri))]))]) }

    @Test func theNearestConfigurationSetsRuleSeverities() throws {
        let repo = try Repo()
        defer { repo.remove() }
        try repo.write(".warden-lint.toml", "[rules]\nno-limits = \"off\"\nmissing-description = \"error\"\n")
        try repo.write("policies/a.warden", Self.policy)
        try repo.write("other/deeper/.warden-lint.toml", "[rules]\ndangerous-grant = \"off\"\n")
        try repo.write("other/deeper/b.warden", Self.policy)
        var client = TestClient()
        _ = client.start()
        let a = try #require(Self.codes(client.notify("textDocument/didOpen", Self.didOpen(repo.uri("policies/a.warden"), Self.policy)), for: repo.uri("policies/a.warden")))
        #expect(a["no-limits"] == nil && a["missing-description"] == 1 && a["dangerous-grant"] == 2 && a["unknown-syscall"] == 1, "\(a)")
        // Only the nearest file applies (as in `warden lint`), not a merge with the root's.
        let b = try #require(Self.codes(client.notify("textDocument/didOpen", Self.didOpen(repo.uri("other/deeper/b.warden"), Self.policy)), for: repo.uri("other/deeper/b.warden")))
        #expect(b["dangerous-grant"] == nil && b["no-limits"] == 2 && b["missing-description"] == 2, "\(b)")
        // An untitled document has no path: no configuration, every finding.
        let u = try #require(Self.codes(client.notify("textDocument/didOpen", Self.didOpen("untitled:Untitled-1", Self.policy)), for: "untitled:Untitled-1"))
        #expect(u["no-limits"] == 2 && u["dangerous-grant"] == 2, "\(u)")
    }

    @Test func theWalkStopsAtTheRepositoryRoot() throws {
        let repo = try Repo(outerConfig: "[rules]\nno-limits = \"off\"\n")
        defer { repo.remove() }
        var client = TestClient()
        _ = client.start()
        let uri = repo.uri("a.warden")
        let codes = try #require(Self.codes(client.notify("textDocument/didOpen", Self.didOpen(uri, Self.policy)), for: uri))
        #expect(codes["no-limits"] == 2, "a configuration above the .git directory must not apply: \(codes)")
    }

    @Test func anIgnoredDocumentShowsOnlyTheCheckersDiagnostics() throws {
        let repo = try Repo()
        defer { repo.remove() }
        try repo.write(".warden-lint.toml", "ignore = [\"generated/*\"]\n")
        var client = TestClient()
        _ = client.start()
        let ignored = repo.uri("generated/x.warden"), kept = repo.uri("kept.warden")
        let i = try #require(Self.codes(client.notify("textDocument/didOpen", Self.didOpen(ignored, Self.policy)), for: ignored))
        #expect(i == ["unknown-syscall": 1], "\(i)")
        let k = try #require(Self.codes(client.notify("textDocument/didOpen", Self.didOpen(kept, Self.policy)), for: kept))
        #expect(k.count == 4, "\(k)")
    }

    @Test func aConfigurationChangedOnDiskIsReadAgain() throws {
        let repo = try Repo()
        defer { repo.remove() }
        try repo.write(".warden-lint.toml", "[rules]\nno-limits = \"error\"\n")
        var client = TestClient()
        _ = client.start()
        let uri = repo.uri("a.warden"), config = repo.uri(".warden-lint.toml")
        #expect(Self.codes(client.notify("textDocument/didOpen", Self.didOpen(uri, Self.policy)), for: uri)?["no-limits"] == 1)
        // Saved in the editor: didSave republishes every open policy.
        try repo.write(".warden-lint.toml", "[rules]\nno-limits = \"off\"\n")
        let saved = try #require(Self.codes(client.notify("textDocument/didSave", Self.textDocument(config)), for: uri))
        #expect(saved["no-limits"] == nil && saved["dangerous-grant"] == 2, "\(saved)")
        // Changed by another program: the client's file watcher tells the server.
        try repo.write(".warden-lint.toml", "[rules]\ndangerous-grant = \"error\"\n")
        let watched = client.notify("workspace/didChangeWatchedFiles", .object([("changes", .array([.object([("uri", .string(config)), ("type", .int(2))])]))]))
        let w = try #require(Self.codes(watched, for: uri))
        #expect(w["no-limits"] == 2 && w["dangerous-grant"] == 1, "\(w)")
        // With no notification at all, the next analysis sees the file's new contents.
        try repo.write(".warden-lint.toml", "[rules]\nmissing-description = \"off\"\ndangerous-grant = \"off\"\n")
        let typed = try #require(Self.codes(client.notify("textDocument/didChange", Self.didChange(uri, Self.policy + "\n")), for: uri))
        #expect(typed["missing-description"] == nil && typed["dangerous-grant"] == nil && typed["no-limits"] == 2, "\(typed)")
        // Deleted: every finding at its default severity.
        try FileManager.default.removeItem(atPath: repo.root + "/.warden-lint.toml")
        let gone = try #require(Self.codes(client.notify("textDocument/didChange", Self.didChange(uri, Self.policy, version: 3)), for: uri))
        #expect(gone.count == 4 && gone["dangerous-grant"] == 2, "\(gone)")
    }

    @Test func anOpenConfigurationDocumentWinsOverTheDiskAndIsChecked() throws {
        let repo = try Repo()
        defer { repo.remove() }
        try repo.write(".warden-lint.toml", "[rules]\nno-limits = \"error\"\n")
        var client = TestClient()
        _ = client.start()
        let uri = repo.uri("a.warden"), config = repo.uri(".warden-lint.toml")
        _ = client.notify("textDocument/didOpen", Self.didOpen(uri, Self.policy))
        // Opened as a document: its text applies at once, the policy is republished.
        let opened = client.notify("textDocument/didOpen", Self.didOpen(config, "[rules]\nno-limits = \"off\"\n"))
        #expect(Self.codes(opened, for: config) == [:], "a valid configuration has no diagnostics")
        #expect(Self.codes(opened, for: uri)?["no-limits"] == nil)
        #expect(client.server.documents[config] == nil, "a configuration is not analysed as a policy")
        // Edited into something invalid: an error on its line, and one at the policy's start.
        let broken = client.notify("textDocument/didChange", Self.didChange(config, "[rules]\nno-limits = \"sometimes\"\n"))
        let own = try #require(broken.last { $0["params"]?["uri"] == .string(config) }?["params"]?["diagnostics"]?.arrayValue)
        #expect(own.count == 1 && own[0].rangeTuple?.0 == 1, "\(own)")
        let p = try #require(Self.codes(broken, for: uri))
        #expect(p["lint-configuration"] == 1 && p["no-limits"] == 2, "findings are shown without the configuration: \(p)")
        // Closed: the file on disk applies again.
        let closed = client.notify("textDocument/didClose", Self.textDocument(config))
        #expect(Self.codes(closed, for: config) == [:])
        #expect(Self.codes(closed, for: uri)?["no-limits"] == 1)
    }

    @Test func theServerAsksToWatchConfigurationsWhenTheClientCan() {
        for watches in [true, false] {
            var server = LanguageServer()
            let capabilities: JSON = .object([("workspace", .object([("didChangeWatchedFiles", .object([("dynamicRegistration", .bool(watches))]))]))])
            _ = server.handle(.object([("jsonrpc", .string("2.0")), ("id", .int(1)), ("method", .string("initialize")),
                                       ("params", .object([("capabilities", capabilities)]))]))
            let out = server.handle(.object([("jsonrpc", .string("2.0")), ("method", .string("initialized")), ("params", .object([]))]))
            if watches {
                let request = out.first { $0["method"] == .string("client/registerCapability") }
                let watcher = request?["params"]?["registrations"]?.arrayValue?.first?["registerOptions"]?["watchers"]?.arrayValue?.first
                #expect(watcher?["globPattern"] == .string("**/.warden-lint.toml"), "\(out)")
                // The client's answer is accepted silently.
                #expect(server.handle(.object([("jsonrpc", .string("2.0")), ("id", .string("warden-watch-lint-configuration")), ("result", .null)])).isEmpty)
            } else {
                #expect(out.isEmpty)
            }
        }
    }

    @Test func hostileConfigurationsGiveAnErrorNotACrash() throws {
        let repo = try Repo()
        defer { repo.remove() }
        var client = TestClient()
        _ = client.start()
        let uri = repo.uri("a.warden"), config = repo.uri(".warden-lint.toml")
        _ = client.notify("textDocument/didOpen", Self.didOpen(uri, Self.policy))
        let cases: [(String, String)] = [
            (String(repeating: "# padding\n", count: 10_000), "larger than"),        // over 64 KiB
            ("[rules]\nno-limits = \"off\"\u{0}\n", ""),                              // a NUL byte
            ("ignore = [" + String(repeating: "\"a\",", count: 2_000) + "]\n", ""),  // too many patterns
            ("[rules\n", ""),                                                         // unterminated table
        ]
        for (text, reason) in cases {
            try repo.write(".warden-lint.toml", text)
            _ = client.notify("textDocument/didSave", Self.textDocument(config))
            let out = client.notify("textDocument/didChange", Self.didChange(uri, Self.policy))
            let list = try #require(out.last { $0["params"]?["uri"] == .string(uri) }?["params"]?["diagnostics"]?.arrayValue)
            let problem = try #require(list.first { $0["code"] == .string("lint-configuration") }, "\(text.prefix(30))")
            #expect(reason.isEmpty || problem["message"]?.stringValue?.contains(reason) == true, "\(problem)")
            #expect((problem["message"]?.stringValue?.utf8.count ?? .max) < 2_200)
        }
        // Not a file at all.
        try FileManager.default.removeItem(atPath: repo.root + "/.warden-lint.toml")
        try FileManager.default.createDirectory(atPath: repo.root + "/.warden-lint.toml", withIntermediateDirectories: false)
        _ = client.notify("textDocument/didSave", Self.textDocument(config))
        let dir = try #require(Self.codes(client.notify("textDocument/didChange", Self.didChange(uri, Self.policy)), for: uri))
        #expect(dir["lint-configuration"] == 1, "\(dir)")
        // A huge open configuration document: one error on it, the server carries on.
        let big = client.notify("textDocument/didOpen", Self.didOpen(config, String(repeating: "#", count: 1 << 20)))
        #expect(big.contains { $0["params"]?["uri"] == .string(config) && $0["params"]?["diagnostics"]?.arrayValue?.count == 1 })
        // Garbage watched-file notifications are ignored.
        #expect(client.notify("workspace/didChangeWatchedFiles", .object([("changes", .string("x"))])).isEmpty)
        #expect(client.notify("workspace/didChangeWatchedFiles", .object([("changes", .array(Array(repeating: .int(1), count: 100_000)))])).isEmpty)
    }
}
