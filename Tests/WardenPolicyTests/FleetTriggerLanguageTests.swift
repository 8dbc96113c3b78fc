import Testing
@testable import WardenPolicy

/// The `fleet "LIST"` trigger clause: parsed, checked (sources, workspace, path), formatted
/// canonically and idempotently, linted (`trigger-fleet-unbounded`), and a fleet trigger's
/// schedule still answers `expect allow trigger schedule NAME at ...`.
@Suite struct FleetTriggerLanguageTests {
    static let header = """
        warden 1
        secret hook-key from file "/etc/warden/hook-key"
        identity maint {
          allow fs read "/usr"
        }

        """

    static let fleets = header + """
        trigger weekly-sweep {
          identity maint
          on schedule "0 4 * * 1"
          fleet "/etc/warden/repos.txt"
          run "make", "lint"
          budget concurrent 4
        }

        trigger sweep-by-hand {
          identity maint
          on manual
          by "alice"
          workspace clone
          fleet "/etc/warden/repos.txt"
          run "make", "lint"
          budget concurrent 2
        }

        test "the sweep fires on Mondays at four" {
          expect allow trigger schedule weekly-sweep at "2026-12-07T04:00Z"
          expect deny  trigger schedule weekly-sweep at "2026-12-08T04:00Z"
          expect allow trigger manual sweep-by-hand by "alice"
        }

        """

    func errors(_ body: String) -> [String] {
        analyze(Self.header + body + "\n").diagnostics.filter { $0.severity == .error }.map(\.code)
    }

    @Test func aFleetTriggerChecksToACloneOfEachRepository() throws {
        let a = analyze(Self.fleets)
        #expect(!a.hasErrors, "\(a.diagnostics.map { "\($0.code): \($0.message)" })")
        let weekly = try #require(a.policy.triggers.first { $0.name == "weekly-sweep" })
        #expect(weekly.fleet == "/etc/warden/repos.txt")
        #expect(weekly.workspace == .clone)
        #expect(weekly.clauseSpans["fleet"]?.start.line == 9)
        let manual = try #require(a.policy.triggers.first { $0.name == "sweep-by-hand" })
        #expect(manual.fleet == "/etc/warden/repos.txt" && manual.workspace == .clone && manual.budget.concurrent == 2)
        // A trigger without the clause has no fleet.
        let plain = analyze(Self.header + "trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run \"x\"\n}\n")
        #expect(plain.policy.triggers.first?.fleet == nil)
    }

    @Test(arguments: [
        // Webhook sources: a delivery must not fan out over a list.
        ("trigger t {\n  identity maint\n  on github push\n  repository \"a/b\"\n  secret hook-key\n  fleet \"/r.txt\"\n  run \"x\"\n}", "trigger-clause-conflict"),
        ("trigger t {\n  identity maint\n  on gitlab push\n  repository \"a/b\"\n  secret hook-key\n  fleet \"/r.txt\"\n  run \"x\"\n}", "trigger-clause-conflict"),
        ("trigger t {\n  identity maint\n  on webhook \"h\"\n  secret hook-key\n  fleet \"/r.txt\"\n  run \"x\"\n}", "trigger-clause-conflict"),
        // The fleet decides the workspace.
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  workspace empty\n  fleet \"/r.txt\"\n  run \"x\"\n}", "trigger-clause-conflict"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  workspace \"/srv/x\"\n  fleet \"/r.txt\"\n  run \"x\"\n}", "trigger-clause-conflict"),
        // The list's path.
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  fleet \"repos.txt\"\n  run \"x\"\n}", "invalid-trigger-fleet"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  fleet \"/etc/../repos.txt\"\n  run \"x\"\n}", "invalid-trigger-fleet"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  fleet \"/\"\n  run \"x\"\n}", "invalid-trigger-fleet"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  fleet \"/a.txt\"\n  fleet \"/b.txt\"\n  run \"x\"\n}", "duplicate-trigger-clause"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  fleet\n  run \"x\"\n}", "syntax-error"),
    ])
    func refusedWithTheCode(_ body: String, _ code: String) {
        let found = errors(body)
        #expect(found.contains(code), "\(body)\n→ \(found)")
    }

    @Test func aWebhookFleetSaysWhy() throws {
        let a = analyze(Self.header + "trigger t {\n  identity maint\n  on webhook \"h\"\n  secret hook-key\n  fleet \"/r.txt\"\n  run \"x\"\n}\n")
        let d = try #require(a.diagnostics.first { $0.code == "trigger-clause-conflict" })
        #expect(d.message == "`fleet` does not apply to a webhook trigger")
        #expect(d.help?.contains("on schedule") == true)
        #expect(d.span.start.line == 10)
    }

    @Test func formatterKeepsTheClauseAndIsIdempotent() throws {
        let messy = Self.header + "trigger   s {\n   identity maint\n on schedule \"@daily\"\n  fleet    \"/etc/warden/repos.txt\"   # the list\n  run \"x\"\n budget concurrent 2\n}\n"
        let once = try PolicyFormatter.format(SourceFile(path: "m.warden", text: messy))
        #expect(once.contains("\n  fleet \"/etc/warden/repos.txt\"  # the list\n"), "\(once)")
        #expect(try PolicyFormatter.format(SourceFile(path: "m.warden", text: once)) == once)
        let full = try PolicyFormatter.format(SourceFile(path: "m.warden", text: Self.fleets))
        #expect(try PolicyFormatter.format(SourceFile(path: "m.warden", text: full)) == full)
        #expect(analyze(full).policy.triggers.compactMap(\.fleet).count == 2)
    }

    @Test func lintFlagsAFleetWithoutAConcurrencyCap() {
        let unbounded = Self.header + "trigger s {\n  identity maint\n  on schedule \"@daily\"\n  fleet \"/etc/warden/repos.txt\"\n  run \"x\"\n}\n"
        #expect(findings("trigger-fleet-unbounded", in: unbounded) == ["trigger-fleet-unbounded@9:3"])
        #expect(findings("trigger-fleet-unbounded", in: Self.fleets).isEmpty)
        #expect(LintRules.named("trigger-fleet-unbounded") != nil)
    }
}
