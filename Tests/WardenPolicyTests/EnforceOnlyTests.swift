import Testing
@testable import WardenPolicy

/// `enforce-only`: parsed as an identity statement, checked (identities only, once),
/// carried to the checked identity, kept by the formatter.
@Suite struct EnforceOnlyTests {
    @Test func parsesWithItsTrailingComment() {
        let (file, diags) = parse(inIdentity("  enforce-only  # reviewed changes only\n  allow fs read \"/usr\""))
        #expect(diags.isEmpty, "\(diags)")
        let s = statements(file)
        guard case .enforceOnly(let e)? = s.first else { Issue.record("not enforce-only: \(s)"); return }
        #expect(e.span.start.line == 3 && e.span.start.column == 3)
        #expect(e.trivia.trailingComment?.text.contains("reviewed changes only") == true)
        #expect(s.count == 2)
    }

    @Test func checkedIdentityCarriesIt() {
        let a = analyze("warden 1\nidentity strict {\n  enforce-only\n}\nidentity open {\n  description \"x\"\n}\n")
        #expect(a.diagnostics.isEmpty, "\(a.diagnostics)")
        #expect(a.policy.identities["strict"]?.enforceOnly == true)
        #expect(a.policy.identities["open"]?.enforceOnly == false)
    }

    @Test func notAllowedInAPermissionSet() {
        let a = analyze("warden 1\npermissions p {\n  enforce-only\n}\n")
        #expect(locations(a.diagnostics) == ["statement-not-allowed@3:3"])
    }

    @Test func takesNoArguments() {
        let (_, diags) = parse(inIdentity("  enforce-only yes"))
        #expect(diags.map(\.code) == ["syntax-error"])
    }

    @Test func misspellingGetsASuggestion() {
        let (_, diags) = parse(inIdentity("  enforce-onyl"))
        #expect(diags.first?.help?.contains("enforce-only") == true, "\(diags)")
    }

    @Test func formatterKeepsIt() throws {
        let out = try PolicyFormatter.format(SourceFile(path: "main.warden", text: "warden 1\nidentity a {\nenforce-only   # why\n  allow fs read \"/usr\"\n}\n"))
        #expect(out == "warden 1\n\nidentity a {\n  enforce-only  # why\n  allow fs read \"/usr\"\n}\n")
    }
}
