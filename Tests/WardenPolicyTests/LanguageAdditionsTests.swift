import Testing
@testable import WardenPolicy

/// `env set` templates, `limit address-space` and the `create` modifier.
@Suite struct LanguageAdditionsTests {
    @Test func envTemplateExpandsTheThreeVariablesAndKeepsOtherDollarsLiteral() throws {
        let t = try EnvTemplate.parse("${tmp}/go:${workspace}/bin:${home}/.cargo/bin $HOME $$ $${tmp}").get()
        let out = t.expanded { ["tmp": "/tmp", "workspace": "/w", "home": "/h"][$0.rawValue]! }
        #expect(out == "/tmp/go:/w/bin:/h/.cargo/bin $HOME $$ ${tmp}")
        #expect(t.hasVariables)
        #expect(t.description == "${tmp}/go:${workspace}/bin:${home}/.cargo/bin $HOME $$ $${tmp}")
        #expect(try EnvTemplate.parse("plain").get().hasVariables == false)
    }

    @Test func envTemplateRejectsUnknownAndUnterminatedVariables() {
        guard case .failure(let unknown) = EnvTemplate.parse("${cwd}/x") else { Issue.record("accepted ${cwd}"); return }
        #expect(unknown.code == "unknown-variable")
        guard case .failure(let open) = EnvTemplate.parse("a${tmp") else { Issue.record("accepted a${tmp"); return }
        #expect(open.code == "invalid-env-value")
    }

    @Test func addressSpaceIsAByteLimitKind() throws {
        let a = analyze("warden 1\nidentity a {\n  limit address-space 64GiB\n  limit memory 1GiB\n}\n")
        #expect(a.diagnostics.isEmpty, "\(a.diagnostics.map(\.message))")
        let limits = try #require(a.policy.identities["a"]?.limits)
        #expect(limits[.addressSpace]?.value.amount == 64 << 30)
        #expect(limits[.memory]?.value.amount == 1 << 30)
    }

    @Test func createIsParsedKeptThroughUseAndFormatted() throws {
        let text = "warden 1\n\npermissions ci {\n  allow fs read, write \"${workspace}/.github/workflows\" create because \"CI\"\n}\n\nidentity a {\n  use ci\n}\n"
        let a = analyze(text)
        #expect(a.diagnostics.isEmpty, "\(a.diagnostics.map(\.message))")
        let rules = try #require(a.policy.identities["a"]?.rules)
        #expect(rules.count == 1 && rules[0].creates)
        #expect(try PolicyFormatter.format(SourceFile(path: "p.warden", text: text)) == text)
    }
}
