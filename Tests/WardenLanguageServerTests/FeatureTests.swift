import Testing
import Foundation
@testable import WardenLanguageServer

/// Hover, go to definition and completion on `samplePolicy` (lines are 0-based):
/// 2 `permissions toolchain {`, 4 `  allow syscall @default`, 9 `  use toolchain`,
/// 11 `  deny  fs write ...`, 12 `  allow capability ...`, 19 `  identity builder`.
@Suite struct HoverTests {
    func hover(_ line: Int, _ character: Int, text: String = samplePolicy) -> String? {
        var client = TestClient()
        _ = client.start()
        _ = client.open("file:///d/p.warden", text)
        return client.request("textDocument/hover", TestClient.at("file:///d/p.warden", line, character))["result"]?["contents"]?["value"]?.stringValue
    }

    @Test func aSyscallGroupListsItsMembers() throws {
        let text = try #require(hover(4, 18))
        #expect(text.contains("@default"))
        #expect(text.contains("`@file-system`"))
        #expect(text.contains("`read`"))
    }

    @Test func useShowsThePermissionSetsRules() throws {
        let text = try #require(hover(9, 8))
        #expect(text.contains("permissions toolchain"))
        #expect(text.contains("allow fs read, exec \"/usr\""))
    }

    @Test func aRuleSaysWhatItAllowsOrDenies() throws {
        let deny = try #require(hover(11, 4))
        #expect(deny.hasPrefix("Denies write access to `${workspace}/.git/hooks`, `${workspace}/.git/config`"))
        let cap = try #require(hover(12, 10))
        #expect(cap.contains("CAP_NET_BIND_SERVICE"))
        #expect(cap.contains("Because: serves docs on port 80"))
    }

    @Test func anIdentityReferenceShowsItsDescription() throws {
        let text = try #require(hover(19, 12))
        #expect(text.contains("Builds the project"))
    }

    @Test func nothingOnBlankLines() {
        #expect(hover(1, 0) == nil)
    }
}

@Suite struct DefinitionTests {
    @Test func useGoesToThePermissionSet() throws {
        var client = TestClient()
        _ = client.start()
        _ = client.open("file:///d/p.warden", samplePolicy)
        let result = try #require(client.request("textDocument/definition", TestClient.at("file:///d/p.warden", 9, 7))["result"])
        #expect(result["uri"] == .string("file:///d/p.warden"))
        #expect(result.rangeTuple! == (2, 12, 2, 21))
    }

    @Test func useGoesToASetInAnIncludedFile() throws {
        var client = TestClient()
        _ = client.start()
        _ = client.open("file:///d/lib.warden", "warden 1\n\n# é😀\npermissions shared {\n  allow fs read \"/usr\"\n}\n")
        _ = client.open("file:///d/root.warden", "warden 1\n\ninclude \"lib.warden\"\n\nidentity x {\n  use shared\n}\n")
        let result = try #require(client.request("textDocument/definition", TestClient.at("file:///d/root.warden", 5, 8))["result"])
        #expect(result["uri"] == .string("file:///d/lib.warden"))
        #expect(result.rangeTuple! == (3, 12, 3, 18))
        let include = try #require(client.request("textDocument/definition", TestClient.at("file:///d/root.warden", 2, 12))["result"])
        #expect(include["uri"] == .string("file:///d/lib.warden"))
    }
}

@Suite struct CompletionTests {
    func labels(_ text: String, _ line: Int, _ character: Int) -> [String] {
        var client = TestClient()
        _ = client.start()
        _ = client.open("file:///d/c.warden", text)
        let items = client.request("textDocument/completion", TestClient.at("file:///d/c.warden", line, character))["result"]?["items"]?.arrayValue ?? []
        return items.compactMap { $0["label"]?.stringValue }
    }

    @Test func syscallGroupsAfterTheAt() {
        let text = "warden 1\n\nidentity x {\n  allow syscall @\n}\n"
        let got = labels(text, 3, 17)
        #expect(got.contains("default"))
        #expect(!got.contains("allow"))
    }

    @Test func capabilitiesAfterCapability() {
        let got = labels("warden 1\n\nidentity x {\n  allow capability \n}\n", 3, 19)
        #expect(got.contains("NET_BIND_SERVICE"))
        #expect(got.contains("SYS_ADMIN"))
    }

    @Test func permissionSetsAfterUse() {
        let text = "warden 1\n\npermissions tools {\n  allow fs read \"/usr\"\n}\n\nidentity x {\n  use \n}\n"
        #expect(labels(text, 7, 6) == ["tools"])
    }

    @Test func identitiesInATest() {
        let text = samplePolicy + "test \"t\" {\n  identity \n}\n"
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = lines.firstIndex { $0 == "  identity " }!
        #expect(labels(text, line, 11) == ["builder"])
    }

    @Test func keywordsAtStatementStartDependOnTheBlock() {
        let text = "warden 1\n\nidentity x {\n  al\n}\n\n"
        #expect(labels(text, 3, 4).contains("allow"))
        #expect(labels(text, 3, 4).contains("use"))
        #expect(labels(text, 5, 0).contains("permissions"))
        #expect(!labels(text, 5, 0).contains("allow"))
    }
}

@Suite struct OnDiskIncludeTests {
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    @Test func aStockPolicyLoadsItsIncludesFromDiskAndHoverFollowsThem() throws {
        let path = Self.root + "/policies/default.warden"
        let text = try #require(try? String(contentsOfFile: path, encoding: .utf8))
        let uri = DocumentURI.uri(path)
        var client = TestClient()
        _ = client.start()
        let diagnostics = client.open(uri, text)
        #expect(!diagnostics.contains { $0["severity"] == .int(1) }, "\(diagnostics)")
        // `use toolchains, ...` is declared in base.warden.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let useLine = try #require(lines.firstIndex { $0.hasPrefix("  use toolchains") })
        let definition = client.request("textDocument/definition", TestClient.at(uri, useLine, 8))["result"]
        #expect(definition?["uri"] == .string(DocumentURI.uri(Self.root + "/policies/base.warden")))
        let hover = client.request("textDocument/hover", TestClient.at(uri, useLine, 8))["result"]?["contents"]?["value"]?.stringValue
        #expect(hover?.contains("permissions toolchains") == true)
        let includeLine = try #require(lines.firstIndex { $0.hasPrefix("include") })
        let include = client.request("textDocument/hover", TestClient.at(uri, includeLine, 10))["result"]?["contents"]?["value"]?.stringValue
        #expect(include?.contains("/policies/base.warden") == true)
        let testIdentity = try #require(lines.firstIndex { $0 == "  identity default" })
        let identity = client.request("textDocument/definition", TestClient.at(uri, testIdentity, 12))["result"]
        #expect(identity?.rangeTuple?.0 == Int64(try #require(lines.firstIndex { $0.hasPrefix("identity default") })))
    }
}

@Suite struct MoreCompletionTests {
    func labels(_ text: String, _ line: Int, _ character: Int) -> [String] {
        var client = TestClient()
        _ = client.start()
        _ = client.open("file:///d/c.warden", text)
        let items = client.request("textDocument/completion", TestClient.at("file:///d/c.warden", line, character))["result"]?["items"]?.arrayValue ?? []
        return items.compactMap { $0["label"]?.stringValue }
    }

    @Test func ruleKindsAfterAnEffectAndLimitKindsAfterLimit() {
        #expect(labels("warden 1\n\nidentity x {\n  deny \n}\n", 3, 7).contains("syscall"))
        #expect(labels("warden 1\n\ntest \"t\" {\n  expect allow \n}\n", 3, 15).contains("fs"))
        #expect(labels("warden 1\n\nidentity x {\n  limit \n}\n", 3, 8).contains("wall-time"))
    }

    @Test func triggerClausesSourcesAndExpectations() {
        #expect(labels("warden 1\n\n", 2, 0).contains("trigger"))
        let inTrigger = labels("warden 1\n\ntrigger t {\n  \n}\n", 3, 2)
        #expect(inTrigger.contains("repository") && inTrigger.contains("run") && !inTrigger.contains("allow"))
        #expect(labels("warden 1\n\ntrigger t {\n  on \n}\n", 3, 5) == ["github", "gitlab", "webhook", "schedule", "manual"])
        #expect(labels("warden 1\n\ntest \"t\" {\n  expect deny \n}\n", 3, 14).contains("trigger"))
    }
}

@Suite struct MemoryBoundTests {
    @Test func documentsOverTheOpenBudgetAreRefusedWithADiagnostic() {
        #expect(LanguageServer().maxOpenBytes == 32 << 20)
        var client = TestClient(server: LanguageServer(maxOpenBytes: 3 << 20))
        _ = client.start()
        let big = "warden 1\n" + String(repeating: "# padding line\n", count: (2 << 20) / 15)
        #expect(client.open("file:///d/a.warden", big).allSatisfy { $0["severity"] != .int(1) })
        let refused = client.open("file:///d/b.warden", big)
        #expect(refused.count == 1)
        #expect(refused.first?["message"]?.stringValue?.contains("at most 3 MiB") == true)
        #expect(client.server.documents.count == 1)
        #expect(client.server.takeLog().count == 1)
    }
}

@Suite struct HoverMarkdownTests {
    @Test func policyTextCannotBecomeLinksImagesOrBreakCodeSpans() throws {
        var client = TestClient()
        _ = client.start()
        let policy = """
        warden 1

        identity x {
          description "see ![p](http://evil.example/p.png) [x](http://evil.example)"
          allow fs read "/a``b`" because "<img src=x> **now**"
        }

        test "t" {
          identity x
        }

        """
        _ = client.open("file:///d/m.warden", policy)
        func hover(_ line: Int, _ character: Int) -> String {
            client.request("textDocument/hover", TestClient.at("file:///d/m.warden", line, character))["result"]?["contents"]?["value"]?.stringValue ?? ""
        }
        let identity = hover(8, 11)
        #expect(identity.contains(#"\!\[p\]\(http://evil\.example/p\.png\)"#), "\(identity)")
        #expect(!identity.contains("]("))
        let rule = hover(4, 4)
        #expect(rule.contains("``` /a``b` ```"), "\(rule)")
        #expect(rule.contains(#"\<img src=x\> \*\*now\*\*"#), "\(rule)")
    }
}
