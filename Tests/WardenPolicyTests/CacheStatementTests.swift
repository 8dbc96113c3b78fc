import Testing
@testable import WardenPolicy

/// `cache PATH, ... [because "..."]`: parsed as an `allow fs read, write` rule marked as a
/// cache, allowed in identities and permission sets, only below `${home}`, formatted like
/// any statement.
@Suite struct CacheStatementTests {
    @Test func parsesAsAnAllowReadWriteRuleMarkedCache() throws {
        let (file, diagnostics) = parse(inIdentity("  cache \"${home}/.cache/pip\", \"${home}/.npm\" because \"downloads\""))
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        guard case .rule(let rule) = try #require(statements(file).first) else { Issue.record("not a rule"); return }
        #expect(rule.cache && rule.effect.value == .allow && rule.because?.value == "downloads")
        guard case .fs(let fs) = rule.body else { Issue.record("not fs"); return }
        #expect(fs.access.map(\.value) == [.read, .write])
        #expect(fs.paths.map(\.literal.value) == ["${home}/.cache/pip", "${home}/.npm"])
    }

    @Test func checkedRulesCarryTheCacheMarkThroughUse() {
        let a = analyze("""
            warden 1
            permissions caches {
              cache "${home}/.m2"
            }
            identity agent {
              use caches
              cache "${home}/.cache/go-build"
              allow fs read "/usr"
            }
            """)
        #expect(!a.hasErrors, "\(a.diagnostics)")
        let rules = a.policy.identities["agent"]?.rules ?? []
        let cached = rules.filter(\.cache).compactMap { r -> String? in
            if case .fs(let access, let path) = r.action, access == [.read, .write] { return path.description } else { return nil }
        }
        #expect(cached == ["${home}/.m2", "${home}/.cache/go-build"])
        #expect(rules.filter { !$0.cache }.count == 1)
    }

    @Test(arguments: ["${home}", "${workspace}/.cache", "/var/cache/x", "${tmp}/c"])
    func aCacheOutsideTheHomeIsAnError(path: String) {
        let a = analyze(inIdentity("  cache \"\(path)\""))
        #expect(a.diagnostics.map(\.code) == ["cache-outside-home"], "\(a.diagnostics)")
    }

    @Test func malformedCacheStatementsAreSyntaxErrors() {
        for body in ["  cache", "  cache pip", "  cache \"${home}/.x\" because", "  cache \"${home}/.x\" extra"] {
            let (_, diagnostics) = parse(inIdentity(body))
            #expect(!diagnostics.isEmpty, "\(body)")
        }
    }

    @Test func formatsLikeAnyStatement() throws {
        let text = "warden 1\n\npermissions c {\n    cache   \"${home}/.npm\" ,\"${home}/.m2\"   because \"x\"  # why\n}\n"
        let out = try PolicyFormatter.format(SourceFile(path: "main.warden", text: text))
        #expect(out == "warden 1\n\npermissions c {\n  cache \"${home}/.npm\", \"${home}/.m2\" because \"x\"  # why\n}\n")
    }
}
