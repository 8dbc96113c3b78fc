import Testing
@testable import WardenPolicy

@Suite struct SuppressionTests {
    @Test func commentSuppressesTheNextLineOnly() {
        let r = lintText(agent("""
              # warden:ignore dangerous-grant
              allow syscall ptrace
              allow syscall bpf
            """))
        #expect(r.diagnostics.filter { $0.code == "dangerous-grant" }.map(\.span.start.line) == [7])
        #expect(r.suppressed.map(\.diagnostic.span.start.line) == [6])
        #expect(r.suppressed.first?.suppression.span.start.line == 5)
    }

    @Test func trailingCommentSuppressesItsOwnLine() {
        let r = lintText(agent("  allow syscall ptrace  # warden:ignore dangerous-grant -- debugger tests\n  allow syscall bpf"))
        #expect(r.diagnostics.filter { $0.code == "dangerous-grant" }.map(\.span.start.line) == [6])
        #expect(r.suppressed.first?.suppression.reason == "debugger tests")
    }

    @Test func severalIdsAndStackedComments() {
        let r = lintText(agent("""
              # warden:ignore secret-env
              # warden:ignore broad-network, dangerous-grant
              allow syscall ptrace
              env pass GITHUB_TOKEN
            """))
        // The stacked comments both reach line 7; line 8 is not covered.
        #expect(r.diagnostics.map(\.code) == ["secret-env"])
        #expect(r.suppressed.map(\.diagnostic.code) == ["dangerous-grant"])
    }

    @Test func otherRulesOnTheLineAreNotSuppressed() {
        let r = lintText(agent("  # warden:ignore secret-env\n  allow syscall ptrace"))
        #expect(r.diagnostics.map(\.code) == ["dangerous-grant"])
        #expect(r.suppressed.isEmpty)
    }

    @Test func identityLevelFindingsAreSuppressedBeforeTheIdentity() {
        let r = lintText("warden 1\n# warden:ignore no-limits, missing-description\nidentity a {\n}\n")
        #expect(r.diagnostics.isEmpty, "\(r.diagnostics)")
        #expect(Set(r.suppressed.map(\.diagnostic.code)) == ["no-limits", "missing-description"])
    }

    @Test func unknownRuleIsReportedAtTheId() {
        let r = lintText(agent("  # warden:ignore dangerous-grnt\n  allow syscall ptrace"))
        let unknown = r.diagnostics.filter { $0.code == "unknown-suppression" }
        #expect(unknown.map { "\($0.span.start.line):\($0.span.start.column)" } == ["5:19"])
        #expect(unknown.first?.help?.contains("dangerous-grant") == true)
        #expect(r.diagnostics.contains { $0.code == "dangerous-grant" })
        // Naming no rule at all is reported too.
        #expect(lintText(agent("  # warden:ignore")).diagnostics.map(\.code) == ["unknown-suppression"])
    }

    @Test func checkerErrorsCannotBeSuppressed() {
        let r = lintText(agent("  # warden:ignore unknown-syscall\n  allow syscall opne"))
        #expect(Set(r.diagnostics.map(\.code)) == ["unknown-syscall", "unknown-suppression"])
    }

    @Test func lookalikesAreNotSuppressions() {
        let file = SourceFile(path: "x", text: "# warden:ignored dangerous-grant\n# see warden:ignore\nallow \"# warden:ignore x\"\n")
        #expect(Suppression.scan(file).isEmpty)
    }

    @Test func suppressionInAnIncludedFile() {
        let lib = "warden 1\npermissions p {\n  # warden:ignore dangerous-grant\n  allow syscall ptrace\n}\n"
        let r = lintText(agent("  use p", extra: "include \"lib.warden\""), others: ["lib.warden": lib])
        #expect(r.diagnostics.isEmpty, "\(r.diagnostics)")
        #expect(r.suppressed.first?.diagnostic.span.file == "lib.warden")
    }
}
