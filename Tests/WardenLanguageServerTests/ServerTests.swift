import Testing
@testable import WardenLanguageServer

@Suite struct LifecycleTests {
    @Test func initializeAnswersTheCapabilities() {
        var client = TestClient()
        let reply = client.start()
        let caps = reply["result"]?["capabilities"]
        #expect(caps?["textDocumentSync"]?["change"] == .int(1))
        #expect(caps?["hoverProvider"] == .bool(true))
        #expect(caps?["definitionProvider"] == .bool(true))
        #expect(caps?["documentFormattingProvider"] == .bool(true))
        #expect(caps?["completionProvider"]?.isObject == true)
    }

    @Test func requestsBeforeInitializeAreRefused() {
        var client = TestClient()
        let reply = client.request("textDocument/hover", TestClient.at("file:///x.warden", 0, 0))
        #expect(reply["error"]?["code"] == .int(RPCError.serverNotInitialized.rawValue))
    }

    @Test func unknownRequestsGetMethodNotFoundAndNotificationsAreIgnored() {
        var client = TestClient()
        _ = client.start()
        #expect(client.request("workspace/nosuch", .null)["error"]?["code"] == .int(-32601))
        #expect(client.notify("$/nosuch", .object([])).isEmpty)
    }

    @Test func exitStatusDependsOnShutdown() {
        var client = TestClient()
        _ = client.start()
        #expect(client.request("shutdown", .null)["result"] == .null)
        #expect(client.request("textDocument/hover", TestClient.at("file:///x", 0, 0))["error"]?["code"] == .int(-32600))
        _ = client.notify("exit", .null)
        #expect(client.server.exitCode == 0)

        var rude = TestClient()
        _ = rude.start()
        _ = rude.notify("exit", .null)
        #expect(rude.server.exitCode == 1)
    }

    @Test func invalidJSONAndInvalidMessagesGetErrorResponses() {
        var server = LanguageServer()
        let parse = server.handle(body: Array("{not json".utf8))
        #expect(parse.first?["error"]?["code"] == .int(-32700))
        #expect(parse.first?["id"] == .null)
        #expect(server.handle(body: Array("[1,2]".utf8)).first?["error"]?["code"] == .int(-32600))
        #expect(server.handle(body: Array(#"{"id":1}"#.utf8)).first?["error"]?["code"] == .int(-32600))
        #expect(server.handle(body: Array(#"{"id":[1],"method":"initialize"}"#.utf8)).first?["error"]?["code"] == .int(-32600))
        #expect(server.handle(body: [0, 0, 0]).first?["error"]?["code"] == .int(-32700))
    }
}

@Suite struct DiagnosticsTests {
    @Test func aCleanPolicyPublishesNoDiagnostics() {
        var client = TestClient()
        _ = client.start()
        #expect(client.open("file:///nonexistent-dir/clean.warden", samplePolicy).isEmpty)
    }

    @Test func anErrorIsPublishedAtItsRange() throws {
        var client = TestClient()
        _ = client.start()
        let policy = "warden 1\n\nidentity x {\n  description \"é😀\"\n  allow syscall nosuchcall  # ünïcode\n}\n"
        let diagnostics = client.open("file:///nonexistent-dir/bad.warden", policy)
        let unknown = try #require(diagnostics.first { $0["code"] == .string("unknown-syscall") })
        let range = try #require(unknown.rangeTuple)
        #expect(range == (4, 16, 4, 26))
        #expect(unknown["source"] == .string("warden"))
    }

    @Test func nonASCIIBeforeTheErrorOnTheSameLine() throws {
        var client = TestClient()
        _ = client.start()
        // `é😀` before the error on its line: the string starts at UTF-8 byte 27, scalar 22, UTF-16 unit 23.
        let policy = "warden 1\n\nidentity x {\n  env set A = \"é😀\"\n  deny fs read \"/é😀\", \"relative\"\n}\n"
        let diagnostics = client.open("file:///nonexistent-dir/bad.warden", policy)
        let rel = try #require(diagnostics.first { $0["severity"] == .int(1) && $0.rangeTuple?.0 == 4 })
        let range = try #require(rel.rangeTuple)
        #expect(range.1 == 23)
        #expect(range.3 == 33)
    }

    @Test func lintFindingsArePublishedAsWarnings() {
        var client = TestClient()
        _ = client.start()
        let policy = "warden 1\n\nidentity x {\n  allow syscall ptrace\n}\n"
        let diagnostics = client.open("file:///nonexistent-dir/lint.warden", policy)
        #expect(diagnostics.contains { $0["severity"] == .int(2) })
    }

    @Test func didChangeRepublishesAndDidCloseClears() {
        var client = TestClient()
        _ = client.start()
        let uri = "file:///nonexistent-dir/doc.warden"
        #expect(client.open(uri, samplePolicy).isEmpty)
        let changed = client.notify("textDocument/didChange", .object([
            ("textDocument", .object([("uri", .string(uri)), ("version", .int(2))])),
            ("contentChanges", .array([.object([("text", .string(samplePolicy + "bogus\n"))])])),
        ]))
        let published = changed.first { $0["method"] == .string("textDocument/publishDiagnostics") }
        #expect(published?["params"]?["version"] == .int(2))
        #expect(published?["params"]?["diagnostics"]?.arrayValue?.isEmpty == false)
        let closed = client.notify("textDocument/didClose", .object([("textDocument", .object([("uri", .string(uri))]))]))
        #expect(closed.first?["params"]?["diagnostics"] == .array([]))
        #expect(client.server.documents.isEmpty)
    }

    @Test func anOpenIncludedDocumentWinsOverTheDisk() {
        var client = TestClient()
        _ = client.start()
        let lib = "file:///nonexistent-dir/lib.warden"
        let root = "file:///nonexistent-dir/root.warden"
        _ = client.open(lib, "warden 1\n\npermissions shared {\n  allow fs read \"/usr\"\n}\n")
        let diagnostics = client.open(root, "warden 1\n\ninclude \"lib.warden\"\n\nidentity x {\n  use shared\n}\n")
        #expect(!diagnostics.contains { $0["severity"] == .int(1) }, "\(diagnostics)")
        // Without the open document the include is missing.
        var fresh = TestClient()
        _ = fresh.start()
        let missing = fresh.open(root, "warden 1\n\ninclude \"lib.warden\"\n\nidentity x {\n  use shared\n}\n")
        #expect(missing.contains { $0["code"] == .string("include-not-found") })
    }
}

@Suite struct FormattingTests {
    @Test func formattingReplacesTheWholeDocument() throws {
        var client = TestClient()
        _ = client.start()
        let uri = "file:///nonexistent-dir/fmt.warden"
        let messy = "warden 1\nidentity x {\n      allow fs read    \"/usr\"\n}\n"
        _ = client.open(uri, messy)
        let reply = client.request("textDocument/formatting", .object([("textDocument", .object([("uri", .string(uri))])),
                                                                        ("options", .object([("tabSize", .int(2)), ("insertSpaces", .bool(true))]))]))
        let edits = try #require(reply["result"]?.arrayValue)
        #expect(edits.count == 1)
        #expect(edits[0]["newText"] == .string("warden 1\n\nidentity x {\n  allow fs read \"/usr\"\n}\n"))
        #expect(edits[0].rangeTuple! == (0, 0, 4, 0))
    }

    @Test func noEditsWhenFormattedOrUnparsable() {
        var client = TestClient()
        _ = client.start()
        _ = client.open("file:///d/ok.warden", samplePolicy)
        _ = client.open("file:///d/broken.warden", "warden 1\nidentity x {\n  allow fs\n")
        let params = { (uri: String) in JSON.object([("textDocument", .object([("uri", .string(uri))]))]) }
        #expect(client.request("textDocument/formatting", params("file:///d/ok.warden"))["result"] == .array([]))
        #expect(client.request("textDocument/formatting", params("file:///d/broken.warden"))["result"] == .array([]))
    }
}

@Suite struct DependentDocumentTests {
    @Test func changingAnIncludedDocumentRepublishesItsIncluders() {
        var client = TestClient()
        _ = client.start()
        let lib = "file:///d/lib.warden"
        let root = "file:///d/root.warden"
        _ = client.open(lib, "warden 1\n\npermissions shared {\n  allow fs read \"/usr\"\n}\n")
        #expect(!client.open(root, "warden 1\n\ninclude \"lib.warden\"\n\nidentity x {\n  use shared\n}\n").contains { $0["severity"] == .int(1) })
        // Renaming the set in the library breaks the root's `use`.
        let out = client.notify("textDocument/didChange", .object([
            ("textDocument", .object([("uri", .string(lib)), ("version", .int(2))])),
            ("contentChanges", .array([.object([("text", .string("warden 1\n\npermissions renamed {\n  allow fs read \"/usr\"\n}\n"))])])),
        ]))
        let forRoot = out.first { $0["params"]?["uri"] == .string(root) }
        let errors = forRoot?["params"]?["diagnostics"]?.arrayValue?.filter { $0["severity"] == .int(1) } ?? []
        #expect(errors.contains { $0["message"]?.stringValue?.contains("shared") == true }, "\(out)")
    }

    @Test func longMessagesAreBounded() {
        var client = TestClient()
        _ = client.start()
        let diagnostics = client.open("file:///d/long.warden", "warden 1\n" + String(repeating: "x", count: 100_000) + "\n")
        #expect(!diagnostics.isEmpty)
        for d in diagnostics { #expect((d["message"]?.stringValue?.utf8.count ?? 0) < 1200) }
    }
}
