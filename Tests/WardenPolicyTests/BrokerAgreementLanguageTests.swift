import Testing
@testable import WardenPolicy

/// Language rules that follow from how the broker works: `allow https` cannot name an IP
/// address (no TLS server name to pick a certificate by), and a secret on an `http` rule
/// travels in cleartext (lint `secret-cleartext`).
@Suite struct BrokerAgreementLanguageTests {
    @Test(arguments: ["10.0.0.5/**", "10.0.0.5:8443/api/**", "[::1]/**", "[2001:db8::1]:443/x"])
    func allowHTTPSOnAnAddressIsAnError(_ pattern: String) throws {
        let a = analyze("warden 1\nidentity a {\n  allow https GET \"\(pattern)\"\n}\n")
        let errors = a.diagnostics.filter { $0.severity == .error }
        #expect(locations(errors) == ["invalid-http-pattern@3:19"])
        let e = try #require(errors.first)
        #expect(e.message.contains("TLS server name"), "\(e.message)")
        #expect(e.help?.contains("host") == true)
    }

    @Test func addressesStayValidWhereTheyWork() {
        // Plain http on an address works (no TLS); a deny on an address refuses nothing the
        // broker could take anyway, so it stays valid; names are fine for https.
        let a = analyze("""
            warden 1
            identity a {
              allow http GET "10.0.0.5:8080/simple/**"
              allow http GET "[::1]/x"
              deny https GET "10.0.0.6/**"
              allow https GET "mirror.internal/**"
            }

            """)
        #expect(a.diagnostics.filter { $0.severity == .error }.isEmpty, "\(a.diagnostics.map(\.message))")
    }

    @Test func secretCleartext() {
        let text = "warden 1\nsecret gh from env \"WARDEN_GH\"\n" + agent("""
              allow http GET "mirror.internal:8080/**" with bearer gh
              allow https GET "api.github.com/**" with bearer gh
              allow http GET "plain.internal/**"
            """)
        #expect(findings("secret-cleartext", in: text) == ["secret-cleartext@7:44"])
        let result = lintText(text)
        let finding = result.diagnostics.first { $0.code == "secret-cleartext" }
        #expect(finding?.severity == .warning)
        #expect(finding?.message.contains("gh") == true)
        #expect(finding?.message.contains("cleartext") == true)
        let clean = "warden 1\nsecret gh from env \"WARDEN_GH\"\n" + agent("  allow https GET \"api.github.com/**\" with bearer gh")
        #expect(findings("secret-cleartext", in: clean).isEmpty)
    }

    @Test func secretCleartextCanBeSuppressed() {
        let text = "warden 1\nsecret gh from env \"WARDEN_GH\"\n" + agent("""
              # warden:ignore secret-cleartext
              allow http GET "mirror.internal:8080/**" with bearer gh
            """)
        #expect(findings("secret-cleartext", in: text).isEmpty)
        #expect(LintRules.named("secret-cleartext")?.severity == .warning)
    }
}
