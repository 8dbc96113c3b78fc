import Foundation
import Testing
import WardenCompiler
import WardenPolicy

/// The launch-authorization decision for every clause, budgets, schedules on a fixed
/// clock across DST transitions, and `warden test`'s trigger expectations.
@Suite struct TriggerAuthorizerTests {
    static let policy = """
        warden 1
        secret hook-key from file "/etc/warden/hook-key"
        identity reviewer {
          allow fs read "/usr"
        }
        identity maint {
          allow fs read "/usr"
        }
        trigger review-prs {
          identity reviewer
          on github pull_request opened, synchronize
          repository "acme/*", "acme-labs/app"
          branch "main", "release/*"
          by "alice", "bob", team "acme/security"
          secret hook-key
          run "review", "--pr"
          budget runs 20 per hour, concurrent 4, wall-time 2h per day
        }
        trigger mr {
          identity reviewer
          on gitlab merge_request open
          repository "grp/**"
          secret hook-key
          run "review"
        }
        trigger nightly {
          identity maint
          on schedule "30 2 * * *" timezone "Europe/Berlin"
          run "make", "audit"
        }
        trigger by-hand {
          identity maint
          on manual
          by "alice", group "devs"
          run "make"
        }
        trigger deploy {
          identity maint
          on webhook "deploy"
          secret hook-key
          run "deploy"
        }
        """

    static func checked(_ text: String = policy) throws -> CheckedPolicy {
        let loader = PolicyLoader(provider: InMemorySourceProvider(["p.warden": text]))
        let a = try loader.analyze("p.warden")
        #expect(!a.hasErrors, "\(a.diagnostics.map { "\($0.code) \($0.span.start.line): \($0.message)" })")
        return a.policy
    }

    func decide(_ words: [String]) throws -> TriggerDecision {
        TriggerAuthorizer(policy: try Self.checked()).decide(try TriggerEventSyntax.parse(words).get())
    }

    @Test func allowsAMatchingPullRequest() throws {
        let d = try decide(["github", "pull_request", "opened", "ACME/App", "branch", "release/2.0", "by", "Alice"])
        #expect(d.allowed)
        #expect(d.launches.map(\.trigger) == ["review-prs"])
        #expect(d.launches.first?.identity == "reviewer" && d.launches.first?.run == ["review", "--pr"])
        #expect(d.launches.first?.workspace == .clone && d.launches.first?.secret == "hook-key")
        #expect(d.reason == "trigger review-prs (line 9) starts identity reviewer")
    }

    @Test(arguments: [
        (["github", "push", "acme/app", "by", "alice"], "no trigger accepts github `push` events", nil as String?),
        (["github", "pull_request", "closed", "acme/app", "branch", "main", "by", "alice"],
         "action `closed` is not one trigger review-prs accepts (opened, synchronize) (line 11)", "on"),
        (["github", "pull_request", "opened", "evil/app", "branch", "main", "by", "alice"],
         "repository 'evil/app' matches no repository pattern of trigger review-prs (line 12)", "repository"),
        (["github", "pull_request", "opened", "acme/app/x", "branch", "main", "by", "alice"],
         "repository 'acme/app/x' matches no repository pattern of trigger review-prs (line 12)", "repository"),
        (["github", "pull_request", "opened", "acme/app", "branch", "dev", "by", "alice"],
         "branch 'dev' matches no branch pattern of trigger review-prs (line 13)", "branch"),
        (["github", "pull_request", "opened", "acme/app", "by", "alice"],
         "the event names no branch; trigger review-prs accepts only \"main\", \"release/*\" (line 13)", "branch"),
        (["github", "pull_request", "opened", "acme/app", "branch", "main", "by", "mallory"],
         "sender 'mallory' is not in trigger review-prs's by list (line 14)", "by"),
        (["github", "pull_request", "opened", "acme/app", "branch", "main", "by", "mallory", "team", "acme/devs"],
         "sender 'mallory' is not in trigger review-prs's by list (nor are its teams 'acme/devs') (line 14)", "by"),
        (["github", "pull_request", "opened", "acme/app", "branch", "main"],
         "the event names no sender; trigger review-prs accepts only its by list (line 14)", "by"),
        (["gitlab", "merge_request", "update", "grp/sub/app"], "action `update` is not one trigger mr accepts (open) (line 21)", "on"),
        (["webhook", "other"], "no trigger accepts webhook \"other\"", nil),
        (["manual", "by-hand", "by", "mallory", "group", "users"],
         "user 'mallory' is not in trigger by-hand's by list (nor are its groups 'users') (line 34)", "by"),
        (["manual", "nightly", "by", "alice"], "no trigger accepts a manual trigger named nightly", nil),
        (["schedule", "by-hand"], "no trigger accepts a schedule trigger named by-hand", nil),
    ])
    func refusesWithTheDecidingReason(_ words: [String], _ reason: String, _ clause: String?) throws {
        let d = try decide(words)
        #expect(!d.allowed)
        #expect(d.reason == reason)
        if let clause { #expect(d.refusals.contains { $0.clause == clause && $0.reason == reason }) }
    }

    @Test func teamsAndGroupsAuthorize() throws {
        #expect(try decide(["github", "pull_request", "synchronize", "acme/app", "branch", "main", "by", "carol", "team", "ACME/Security"]).allowed)
        #expect(try decide(["gitlab", "merge_request", "open", "grp/a/b/c"]).allowed)
        #expect(try decide(["manual", "by-hand", "by", "carol", "group", "devs"]).allowed)
        #expect(try decide(["manual", "by-hand", "by", "alice"]).allowed)
        // Local user names are case-sensitive.
        #expect(try !decide(["manual", "by-hand", "by", "Alice"]).allowed)
        #expect(try decide(["webhook", "deploy"]).allowed)
        #expect(try decide(["schedule", "nightly"]).allowed)
    }

    @Test func budgetsRefuseWhenSpent() throws {
        let authorizer = TriggerAuthorizer(policy: try Self.checked())
        let event = TriggerEvent.forge(.github, event: "pull_request", action: "opened", repository: "acme/app", branch: "main", sender: "alice")
        #expect(authorizer.decide(event, usage: { _ in TriggerUsage(runsInPeriod: 19, running: 3, wallTimeSecondsInPeriod: 7199) }).allowed)
        let busy = authorizer.decide(event, usage: { _ in TriggerUsage(running: 4) })
        #expect(busy.reason == "trigger review-prs already has 4 runs going (budget concurrent 4) (line 17)")
        let spent = authorizer.decide(event, usage: { _ in TriggerUsage(runsInPeriod: 20) })
        #expect(spent.reason == "trigger review-prs started 20 runs in the last hour (budget runs 20 per hour) (line 17)")
        let long = authorizer.decide(event, usage: { _ in TriggerUsage(wallTimeSecondsInPeriod: 7200) })
        #expect(long.reason.hasPrefix("trigger review-prs used 2h of run time in the last day"), "\(long.reason)")
    }

    @Test func severalTriggersForOneEventAllLaunch() throws {
        let text = Self.policy + "\ntrigger second {\n  identity maint\n  on webhook \"deploy\"\n  secret hook-key\n  run \"notify\"\n}\n"
        let d = TriggerAuthorizer(policy: try Self.checked(text)).decide(.webhook("deploy"))
        #expect(d.launches.map(\.trigger) == ["deploy", "second"])
        #expect(d.reason.hasSuffix("(and 1 more)"))
    }

    // MARK: Cron on a fixed clock

    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    /// Unix seconds of a UTC time.
    static func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int) -> Date {
        Date(timeIntervalSince1970: TimeInterval(CivilDate.days(year: y, month: mo, day: d) * 86400 + h * 3600 + mi * 60))
    }

    @Test func nextFiresOnWeekdaysInTheZone() throws {
        let s = try CronSchedule.parse("0 3 * * 1-5").get()
        // Friday 2026-12-04 03:00 CET = 02:00 UTC; after it comes Monday.
        #expect(s.next(after: Self.utc(2026, 12, 4, 1, 0), in: Self.berlin) == Self.utc(2026, 12, 4, 2, 0))
        #expect(s.next(after: Self.utc(2026, 12, 4, 2, 0), in: Self.berlin) == Self.utc(2026, 12, 7, 2, 0))
        let utc = TimeZone(identifier: "UTC")!
        #expect(try CronSchedule.parse("*/15 * * * *").get().next(after: Self.utc(2026, 1, 1, 0, 7), in: utc) == Self.utc(2026, 1, 1, 0, 15))
        #expect(try CronSchedule.parse("0 0 29 2 *").get().next(after: Self.utc(2026, 3, 1, 0, 0), in: utc) == Self.utc(2028, 2, 29, 0, 0))
    }

    @Test func springForwardFiresSkippedTimesOnceAtTheJump() throws {
        // Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
        let s = try CronSchedule.parse("30 2 * * *").get()
        let jump = Self.utc(2026, 3, 29, 1, 0)
        #expect(s.next(after: Self.utc(2026, 3, 28, 2, 0), in: Self.berlin) == jump)
        #expect(s.next(after: jump, in: Self.berlin) == Self.utc(2026, 3, 30, 0, 30))
        let every15 = try CronSchedule.parse("*/15 2,3 * * *").get()
        #expect(every15.next(after: Self.utc(2026, 3, 29, 0, 50), in: Self.berlin) == jump)
        // 02:15, 02:30, 02:45 and 03:00 all map to the jump: it fires once, then 03:15.
        #expect(every15.next(after: jump, in: Self.berlin) == Self.utc(2026, 3, 29, 1, 15))
    }

    @Test func fallBackFiresRepeatedTimesOnce() throws {
        // America/New_York, 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00 UTC; 01:30 happens twice.
        let s = try CronSchedule.parse("30 1 * * *").get()
        let first = Self.utc(2026, 11, 1, 5, 30)
        #expect(s.next(after: Self.utc(2026, 11, 1, 0, 0), in: Self.newYork) == first)
        #expect(s.next(after: first, in: Self.newYork) == Self.utc(2026, 11, 2, 6, 30))
        let hourly = try CronSchedule.parse("0 * * * *").get()
        // 01:00 EDT (05:00 UTC), then 02:00 EST (07:00 UTC): the repeated 01:00 EST is skipped.
        #expect(hourly.next(after: Self.utc(2026, 11, 1, 5, 0), in: Self.newYork) == Self.utc(2026, 11, 1, 7, 0))
    }

    @Test func scheduleExpectationsUseTheTriggersZone() throws {
        let authorizer = TriggerAuthorizer(policy: try Self.checked())
        func at(_ text: String) -> TriggerDecision { authorizer.decide(.schedule("nightly", at: TriggerTime.parse(text))) }
        #expect(at("2026-12-07T02:30").allowed)
        #expect(at("2026-12-07T01:30Z").allowed)
        #expect(at("2026-03-29T02:30").allowed)  // skipped by DST: fires at the jump
        let wrong = at("2026-12-07T03:30")
        #expect(!wrong.allowed)
        #expect(wrong.reason == "trigger nightly's schedule \"30 2 * * *\" (Europe/Berlin) does not fire at 2026-12-07T03:30; it next fires at 2026-12-08T02:30+01:00 (line 28)")
    }

    @Test func testRunnerDecidesTriggerExpectations() throws {
        let text = Self.policy + """

            test "who may start the reviewer" {
              identity reviewer
              expect allow trigger github pull_request opened "acme/app" branch "main" by "alice"
              expect deny  trigger github pull_request opened "acme/app" branch "main" by "mallory"
              expect deny  trigger manual by-hand by "alice"
              expect allow trigger github pull_request opened "evil/app" branch "main" by "alice"
            }
            test "any identity" {
              expect allow trigger manual by-hand by "bob" group "devs"
            }
            """
        let results = try PolicyTestRunner(policy: try Self.checked(text)).run()
        #expect(results.map(\.passed) == [true, true, true, false, true])
        let failed = results[3]
        #expect(failed.decision.effect == .deny)
        #expect(failed.decision.note == "repository 'evil/app' matches no repository pattern of trigger review-prs (line 12)")
        #expect(failed.decision.rules.first?.line == 12)
        #expect(results[2].decision.note == "the event starts trigger by-hand (identity maint), no trigger of identity reviewer")
        #expect(results[4].identity == "")
    }
}

/// A fleet trigger is decided like any trigger of its source; its `budget concurrent` caps
/// its runs at once and does not refuse a firing (the server refuses one while the last
/// fleet is going), and a launch names the list.
@Suite struct FleetTriggerAuthorizerTests {
    static let policy = """
        warden 1
        identity maint {
          allow fs read "/usr"
        }
        trigger sweep {
          identity maint
          on manual
          by "alice"
          fleet "/etc/warden/repos.txt"
          run "make", "lint"
          budget concurrent 2, runs 100 per day
        }
        test "fleet" {
          expect allow trigger manual sweep by "alice"
          expect deny  trigger manual sweep by "mallory"
        }
        """

    @Test func aFleetFiringIsNotRefusedByItsOwnConcurrencyCap() throws {
        let checked = try TriggerAuthorizerTests.checked(Self.policy)
        let event = try TriggerEventSyntax.parse(["manual", "sweep", "by", "alice"]).get()
        let busy = TriggerAuthorizer(policy: checked).decide(event, usage: { _ in TriggerUsage(running: 2) })
        #expect(busy.allowed, "\(busy.reason)")
        #expect(busy.launches.first?.fleet == "/etc/warden/repos.txt")
        #expect(busy.launches.first?.workspace == .clone)
        let spent = TriggerAuthorizer(policy: checked).decide(event, usage: { _ in TriggerUsage(runsInPeriod: 100) })
        #expect(!spent.allowed && spent.reason.contains("budget runs 100"), "\(spent.reason)")
        let results = try PolicyTestRunner(policy: checked).run()
        #expect(results.map(\.passed) == [true, true])
    }
}
