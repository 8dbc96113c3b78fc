import Testing
@testable import WardenPolicy
import WardenTestSupport

/// Trigger declarations: parsing, the checked form, every checker error, lint rules, fmt,
/// globs, cron expressions, the event syntax, and hostile input.
@Suite struct TriggerLanguageTests {
    static let header = """
        warden 1
        secret hook-key from file "/etc/warden/hook-key"
        identity reviewer {
          allow fs read "/usr"
        }
        identity maint {
          allow fs read "/usr"
        }

        """

    static let full = header + """
        trigger review-prs {
          description "Reviews pull requests"
          identity reviewer
          on github pull_request opened, synchronize
          repository "acme/*", "acme-labs/app"
          branch "main", "release/*"
          by "alice", "bob", team "acme/security"
          secret hook-key
          workspace clone
          fields "pull_request.number", "pull_request.head.sha"
          run "review", "--pr"
          budget runs 20 per hour, concurrent 4, wall-time 2h per day
        }

        trigger nightly {
          identity maint
          on schedule "0 3 * * 1-5" timezone "Europe/Berlin"
          workspace "/srv/checkouts/app"
          run "make", "audit"
        }

        trigger by-hand {
          identity maint
          on manual
          by "alice", group "devs"
          run "make"
        }

        trigger deploy-hook {
          identity maint
          on webhook "deploy"
          secret hook-key
          run "deploy"
        }

        """

    func trigger(_ a: PolicyAnalysis, _ name: String) -> CheckedTrigger? { a.policy.triggers.first { $0.name == name } }

    @Test func parsesAndChecksEveryClause() throws {
        let a = analyze(Self.full)
        #expect(!a.hasErrors, "\(locations(a.diagnostics)) \(a.diagnostics.map(\.message))")
        #expect(a.policy.triggers.map(\.name) == ["review-prs", "nightly", "by-hand", "deploy-hook"])
        let t = try #require(trigger(a, "review-prs"))
        #expect(t.identity == "reviewer" && t.source == .github && t.event == "pull_request")
        #expect(t.actions == ["opened", "synchronize"])
        #expect(t.repositories.map(\.glob.text) == ["acme/*", "acme-labs/app"])
        #expect(t.branches.map(\.glob.text) == ["main", "release/*"])
        #expect(t.senders.map(\.kind) == [.user, .user, .team])
        #expect(t.secret == "hook-key" && t.workspace == .clone)
        #expect(t.fields == ["pull_request.number", "pull_request.head.sha"])
        #expect(t.run == ["review", "--pr"])
        #expect(t.budget.runsCount == 20 && t.budget.runsPeriod == .hour && t.budget.concurrent == 4)
        #expect(t.budget.wallTimeSeconds == 7200 && t.budget.wallTimePeriod == .day)
        #expect(t.description == "Reviews pull requests")
        #expect(t.clauseSpans["by"]?.start.line == 15)
        let n = try #require(trigger(a, "nightly"))
        #expect(n.schedule?.text == "0 3 * * 1-5" && n.timeZone == "Europe/Berlin" && n.workspace == .directory("/srv/checkouts/app"))
        #expect(trigger(a, "by-hand")?.senders.map(\.kind) == [.user, .group])
        #expect(trigger(a, "by-hand")?.workspace == .empty)
        #expect(trigger(a, "deploy-hook")?.hook == "deploy")
    }

    /// Each snippet (inside a policy with identities and a secret) yields exactly its code.
    @Test(arguments: [
        ("trigger t {\n  identity nobody\n  on manual\n  by \"a\"\n  run \"x\"\n}", "unknown-identity"),
        ("trigger t {\n  identity maint\n  on webhook \"h\"\n  secret nope\n  run \"x\"\n}", "unknown-secret"),
        ("trigger t {\n  identity maint\n  on schedule \"61 * * * *\"\n  run \"x\"\n}", "invalid-cron"),
        ("trigger t {\n  identity maint\n  on schedule \"0 3 * *\"\n  run \"x\"\n}", "invalid-cron"),
        ("trigger t {\n  identity maint\n  on schedule \"0 3 31 2 *\"\n  run \"x\"\n}", "invalid-cron"),
        ("trigger t {\n  identity maint\n  on schedule \"0 3 * * *\" timezone \"Mars/Olympus\"\n  run \"x\"\n}", "unknown-time-zone"),
        ("trigger t {\n  identity maint\n  on schedule \"0 3 * * *\" timezone \"../../etc/passwd\"\n  run \"x\"\n}", "unknown-time-zone"),
        ("trigger t {\n  identity maint\n  on github push\n  repository \"\"\n  run \"x\"\n}", "invalid-trigger-pattern"),
        ("trigger t {\n  identity maint\n  on github push\n  repository \"*\"\n  run \"x\"\n}", "invalid-trigger-pattern"),
        ("trigger t {\n  identity maint\n  on github push\n  repository \"a/***\"\n  run \"x\"\n}", "invalid-trigger-pattern"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run \"\"\n}", "empty-run"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n}", "trigger-missing-clause"),
        ("trigger t {\n  identity maint\n  on github push\n  run \"x\"\n}", "trigger-missing-clause"),
        ("trigger t {\n  identity maint\n  on manual\n  run \"x\"\n}", "trigger-missing-clause"),
        ("trigger t {\n  on manual\n  by \"a\"\n  run \"x\"\n}", "trigger-missing-clause"),
        ("trigger t {\n  identity maint\n  on manual\n  on manual\n  by \"a\"\n  run \"x\"\n}", "duplicate-trigger-clause"),
        ("trigger t {\n  identity maint\n  on schedule \"@daily\"\n  by \"a\"\n  run \"x\"\n}", "trigger-clause-conflict"),
        ("trigger t {\n  identity maint\n  on webhook \"h\"\n  by \"a\"\n  run \"x\"\n}", "trigger-clause-conflict"),
        ("trigger t {\n  identity maint\n  on manual\n  by team \"a/b\"\n  run \"x\"\n}", "trigger-clause-conflict"),
        ("trigger t {\n  identity maint\n  on github push\n  repository \"a/b\"\n  by group \"devs\"\n  run \"x\"\n}", "trigger-clause-conflict"),
        ("trigger t {\n  identity maint\n  on schedule \"@daily\"\n  workspace clone\n  run \"x\"\n}", "trigger-clause-conflict"),
        ("trigger t {\n  identity maint\n  on schedule \"@daily\"\n  secret hook-key\n  run \"x\"\n}", "trigger-clause-conflict"),
        ("trigger t {\n  identity maint\n  on github pull_requests\n  repository \"a/b\"\n  run \"x\"\n}", "unknown-trigger-event"),
        ("trigger t {\n  identity maint\n  on github pull_request open\n  repository \"a/b\"\n  run \"x\"\n}", "unknown-trigger-event"),
        ("trigger t {\n  identity maint\n  on github push opened\n  repository \"a/b\"\n  run \"x\"\n}", "unknown-trigger-event"),
        ("trigger t {\n  identity maint\n  on webhook \"Bad Name\"\n  secret hook-key\n  run \"x\"\n}", "invalid-trigger-hook"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  workspace \"relative\"\n  run \"x\"\n}", "invalid-trigger-workspace"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  workspace fresh\n  run \"x\"\n}", "invalid-trigger-workspace"),
        ("trigger t {\n  identity maint\n  on webhook \"h\"\n  secret hook-key\n  fields \"a..b\"\n  run \"x\"\n}", "invalid-trigger-field"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run \"x\"\n  budget runs 0 per hour\n}", "invalid-trigger-budget"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run \"x\"\n  budget runs 5\n}", "invalid-trigger-budget"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run \"x\"\n  budget concurrent 2 per day\n}", "invalid-trigger-budget"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run \"x\"\n  budget speed 2\n}", "invalid-trigger-budget"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run \"x\"\n}\ntrigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run \"x\"\n}", "duplicate-definition"),
        ("test \"t\" {\n  expect allow trigger github pull_request opened\n}", "invalid-trigger-event"),
        ("test \"t\" {\n  expect allow trigger smoke-signal \"x\"\n}", "invalid-trigger-event"),
        ("test \"t\" {\n  expect allow trigger manual t\n}", "invalid-trigger-event"),
        ("trigger t {\n  identity maint\n  on fax\n  run \"x\"\n}", "syntax-error"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run\n}", "syntax-error"),
        ("trigger t {\n  identity maint\n  on manual\n  by \"a\"\n  run \"x\"\n  repo \"a/b\"\n}", "syntax-error"),
    ])
    func checkerError(_ snippet: String, _ code: String) {
        let a = analyze(Self.header + snippet + "\n")
        let errors = a.diagnostics.filter { $0.severity == .error }
        #expect(errors.contains { $0.code == code }, "\(snippet)\n→ \(errors.map { "\($0.code): \($0.message)" })")
    }

    @Test func cronErrorsNameTheFieldAndWhy() {
        func message(_ cron: String) -> String {
            if case .failure(let e) = CronSchedule.parse(cron) { return e.message }
            return "accepted"
        }
        #expect(message("0 24 * * *").contains("hour field `24`: 24 is out of range 0-23"))
        #expect(message("0 3 * * 8").contains("day-of-week field `8`"))
        #expect(message("*/0 * * * *").contains("minute field `*/0`: the step `0` is not a positive number"))
        #expect(message("5/10 * * * *").contains("a step needs a range"))
        #expect(message("0 3 * 13 *").contains("month field `13`"))
        #expect(message("0 3 * foo *").contains("month field `foo`"))
        #expect(message("0 5-2 * * *").contains("reversed"))
        #expect(message("0 3 * * * *").contains("5 fields"))
        #expect(message("@reboot").contains("cannot run at boot"))
        #expect(message(String(repeating: "1,", count: 200) + "1 * * * *").contains("longer than"))
        #expect(message("0 3 * * mon-fri") == "accepted")
        #expect(message("0 3 * jan,jul sun") == "accepted")
        #expect(message("0 3 * * 7") == "accepted")
        #expect(message("@weekly") == "accepted")
        #expect(message("0 0 29 2 *") == "accepted")
    }

    @Test func cronMatchesFieldsAndVixieDaySemantics() throws {
        let weekdays = try CronSchedule.parse("0 3 * * 1-5").get()
        #expect(weekdays.matches(month: 12, day: 7, weekday: 1, hour: 3, minute: 0))
        #expect(!weekdays.matches(month: 12, day: 6, weekday: 0, hour: 3, minute: 0))
        #expect(!weekdays.matches(month: 12, day: 7, weekday: 1, hour: 3, minute: 1))
        let sunday7 = try CronSchedule.parse("0 0 * * 7").get()
        #expect(sunday7.matches(month: 1, day: 4, weekday: 0, hour: 0, minute: 0))
        // Both day fields restricted: either matches.
        let either = try CronSchedule.parse("0 0 13 * fri").get()
        #expect(either.matchesDay(month: 3, day: 13, weekday: 2))
        #expect(either.matchesDay(month: 3, day: 14, weekday: 5))
        #expect(!either.matchesDay(month: 3, day: 14, weekday: 4))
        // A `*/2` day-of-week counts as unrestricted: both must match.
        let both = try CronSchedule.parse("0 0 13 * */2").get()
        #expect(!both.matchesDay(month: 3, day: 14, weekday: 2))
        let steps = try CronSchedule.parse("10-50/20 */6 * * *").get()
        #expect(steps.minuteList == [10, 30, 50] && steps.hourList == [0, 6, 12, 18])
    }

    @Test func civilDatesRoundTrip() {
        for days in stride(from: -800_000, to: 800_000, by: 997) {
            let (y, m, d) = CivilDate.date(days: days)
            #expect(CivilDate.days(year: y, month: m, day: d) == days)
        }
        #expect(CivilDate.weekday(days: CivilDate.days(year: 2026, month: 12, day: 7)) == 1)
        #expect(CivilDate.length(year: 2028, month: 2) == 29 && CivilDate.length(year: 2100, month: 2) == 28)
    }

    @Test func timeZonesAreCheckedAgainstTheDatabase() {
        #expect(TimeZoneName.problem("Europe/Berlin") == nil)
        #expect(TimeZoneName.problem("UTC") == nil)
        #expect(TimeZoneName.problem("Europe/Nowhere") != nil)
        #expect(TimeZoneName.problem("/etc/passwd") != nil)
        #expect(TimeZoneName.problem("Europe/../../../etc/passwd") != nil)
        #expect(TimeZoneName.problem("Europe") != nil)  // a directory, not a zone file
        #expect(TimeZoneName.problem(String(repeating: "A", count: 100)) != nil)
    }

    @Test func globsMatchSegmentsAndIgnoreCaseWhenAsked() throws {
        func glob(_ p: String, _ ci: Bool = true) throws -> TriggerGlob { try TriggerGlob.parse(p, caseInsensitive: ci).get() }
        #expect(try glob("acme/*").matches("acme/app"))
        #expect(try glob("acme/*").matches("ACME/App"))
        #expect(try !glob("acme/*").matches("acme/sub/app"))
        #expect(try glob("acme/**").matches("acme/sub/app"))
        #expect(try !glob("acme/*").matches("acme-evil/app"))
        #expect(try !glob("acme/app").matches("acme/app2"))
        #expect(try glob("release/*", false).matches("release/1.2"))
        #expect(try !glob("Main", false).matches("main"))
        #expect(try glob("v?.*", false).matches("v1.x"))
        #expect(try !glob("v?", false).matches("v/"))
        #expect(try glob("*/*").matchesEverything && glob("**").matchesEverything && !glob("acme/*").matchesEverything)
        #expect(try glob("a*b*c").matches("aXXbYYc") && !glob("a*b*c").matches("aXXbYY"))
    }

    /// A pattern that makes backtracking matchers exponential matches here in linear time.
    @Test(.timeLimit(.minutes(1))) func pathologicalGlobsStayLinear() throws {
        let pattern = String(repeating: "*a", count: 60) + "*b"
        let g = try TriggerGlob.parse(String(pattern.prefix(TriggerGlob.maxLength)), caseInsensitive: false).get()
        let subject = String(repeating: "a", count: 100_000)
        let clock = ContinuousClock()
        let elapsed = clock.measure { #expect(!g.matches(subject)) }
        #expect(elapsed < .seconds(5), "\(elapsed)")
        let deep = try TriggerGlob.parse(String(repeating: "**/", count: 80) + "x", caseInsensitive: false).get()
        #expect(deep.matches(String(repeating: "d/", count: 5_000) + "x"))
        if case .success = TriggerGlob.parse(String(repeating: "a", count: 300), caseInsensitive: false) { Issue.record("overlong pattern accepted") }
    }

    @Test(.timeLimit(.minutes(1))) func hugeListsAreCheckedWithoutBlowingUp() {
        let repos = (0..<5_000).map { "\"org\($0)/*\"" }.joined(separator: ", ")
        let logins = (0..<5_000).map { "\"user\($0)\"" }.joined(separator: ", ")
        let text = Self.header + "trigger big {\n  identity maint\n  on github pull_request opened\n  repository \(repos)\n  by \(logins)\n  secret hook-key\n  run \"x\"\n}\n"
        let a = analyze(text)
        #expect(!a.hasErrors)
        #expect(a.policy.triggers.first?.repositories.count == 5_000)
        let cron = Self.header + "trigger c {\n  identity maint\n  on schedule \"\(String(repeating: "0,", count: 5000))0 * * * *\"\n  run \"x\"\n}\n"
        #expect(analyze(cron).diagnostics.contains { $0.code == "invalid-cron" })
    }

    @Test func eventSyntaxParsesEveryForm() throws {
        let pr = try TriggerEventSyntax.parse(["github", "pull_request", "opened", "acme/app", "branch", "main", "by", "alice", "team", "acme/sec", "acme/ops"]).get()
        #expect(pr.event == "pull_request" && pr.action == "opened" && pr.repository == "acme/app" && pr.branch == "main")
        #expect(pr.sender == "alice" && pr.senderTeams == ["acme/sec", "acme/ops"])
        let push = try TriggerEventSyntax.parse(["gitlab", "push", "grp/sub/app", "branch", "main"]).get()
        #expect(push.action == nil && push.repository == "grp/sub/app")
        #expect(try TriggerEventSyntax.parse(["webhook", "deploy"]).get().hook == "deploy")
        let at = try TriggerEventSyntax.parse(["schedule", "nightly", "at", "2026-03-29T02:30"]).get()
        #expect(at.trigger == "nightly" && at.time?.hour == 2 && at.time?.utcOffset == nil)
        let manual = try TriggerEventSyntax.parse(["manual", "by-hand", "by", "alice", "group", "devs", "ops"]).get()
        #expect(manual.localUser?.name == "alice" && manual.localUser?.groups == ["devs", "ops"])
        for bad in [[], ["ftp"], ["github"], ["github", "push"], ["github", "push", "noslash"], ["github", "push", "a/b", "by"],
                    ["github", "push", "a/b", "team", "x"], ["webhook"], ["manual", "x"], ["schedule", "x", "at", "tomorrow"],
                    ["github", "push", "a/b", "by", "x", "by", "y"], Array(repeating: "x", count: 300)] {
            if case .success = TriggerEventSyntax.parse(bad) { Issue.record("accepted \(bad)") }
        }
        #expect(TriggerTime.parse("2026-03-29T02:30+02:00")?.utcOffset == 7200)
        #expect(TriggerTime.parse("2026-02-30T02:30") == nil)
    }

    @Test func triggerOnlyTestsNeedNoIdentity() {
        let a = analyze(Self.full + "test \"launch\" {\n  expect allow trigger manual by-hand by \"alice\"\n}\n")
        #expect(!a.hasErrors, "\(a.diagnostics.map(\.message))")
        #expect(a.policy.tests.first?.expectations.count == 1)
        let mixed = analyze(Self.full + "test \"launch\" {\n  expect allow trigger manual by-hand by \"alice\"\n  expect allow fs read \"/usr\"\n}\n")
        #expect(mixed.diagnostics.contains { $0.code == "test-missing-identity" })
    }

    @Test func lintRulesFlagOpenTriggers() {
        let text = Self.header + """
            trigger open {
              identity reviewer
              on github issue_comment created
              repository "*/*"
              run "x"
            }
            trigger hook {
              identity maint
              on webhook "h"
              run "x"
            }
            """
        let result = Linter().lint(analyze(text + "\n"))
        let codes = result.diagnostics.map(\.code)
        #expect(codes.filter { $0 == "trigger-without-secret" }.count == 2)
        #expect(codes.contains("trigger-open-to-anyone"))
        #expect(codes.contains("trigger-any-repository"))
        let star = Self.header + "trigger s {\n  identity reviewer\n  on github push\n  repository \"acme/app\"\n  by \"*\"\n  secret hook-key\n  run \"x\"\n}\n"
        let starFindings = Linter().lint(analyze(star)).diagnostics.filter { $0.code == "trigger-open-to-anyone" }
        #expect(starFindings.map(\.span.start.line) == [13], "\(starFindings)")
        let clean = Linter().lint(analyze(Self.full))
        #expect(!clean.diagnostics.contains { $0.code.hasPrefix("trigger-") }, "\(clean.diagnostics.map(\.message))")
    }

    @Test func formatterIsCanonicalAndIdempotent() throws {
        let messy = """
            warden 1
            identity maint {
              allow fs read "/usr"
            }
            trigger   t {   # the nightly job
                 identity    maint
              on  schedule "0 3 * * *"   timezone "Europe/Berlin"


              run "make" ,"audit"   # literal argv
              budget runs 2 per hour,concurrent 1
            }
            test "t" {
              expect deny trigger manual t by "mallory"
            }
            """
        let once = try PolicyFormatter.format(SourceFile(path: "m.warden", text: messy))
        #expect(once == """
            warden 1

            identity maint {
              allow fs read "/usr"
            }

            trigger t {  # the nightly job
              identity maint
              on schedule "0 3 * * *" timezone "Europe/Berlin"

              run "make", "audit"  # literal argv
              budget runs 2 per hour, concurrent 1
            }

            test "t" {
              expect deny  trigger manual t by "mallory"
            }

            """)
        let twice = try PolicyFormatter.format(SourceFile(path: "m.warden", text: once))
        #expect(twice == once)
        let full = try PolicyFormatter.format(SourceFile(path: "m.warden", text: Self.full))
        #expect(try PolicyFormatter.format(SourceFile(path: "m.warden", text: full)) == full)
        #expect(analyze(full).policy.triggers.count == 4)
    }

    /// Mutated trigger policies never crash the checker, keep every span valid, and format
    /// idempotently whenever they parse.
    @Test func mutatedTriggerPolicies() {
        let base = Self.full + "test \"t\" {\n  expect allow trigger github pull_request opened \"acme/app\" branch \"main\" by \"alice\"\n"
            + "  expect deny  trigger schedule nightly at \"2026-03-29T02:30\"\n  expect allow trigger manual by-hand by \"a\" group \"devs\"\n}\n"
        var rng = SeededRandom(seed: 0x7219_6E55)
        var failures = 0
        for _ in 0..<10_000 where failures < 5 {
            let text = Mutator.mutate(base, rng: &rng)
            if !FuzzTests.run(text) { failures += 1; continue }
            if let once = try? PolicyFormatter.format(SourceFile(path: "m.warden", text: text)) {
                let twice = try? PolicyFormatter.format(SourceFile(path: "m.warden", text: once))
                if twice != once { failures += 1; Issue.record("fmt not idempotent for:\n\(text)") }
            }
        }
        #expect(failures == 0)
        let words = ["github", "gitlab", "webhook", "schedule", "manual", "push", "a/b", "by", "team", "group", "at", "branch", "x", "2026-01-01T00:00", ""]
        for _ in 0..<20_000 {
            let w = (0..<Int.random(in: 0..<10, using: &rng)).map { _ in words[Int.random(in: 0..<words.count, using: &rng)] }
            _ = TriggerEventSyntax.parse(w)
        }
    }
}
