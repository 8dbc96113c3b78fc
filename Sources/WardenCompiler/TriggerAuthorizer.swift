import WardenPolicy

/// What a trigger has spent, as counted by the caller (`warden serve`) over the trigger's
/// budget periods; the authorizer compares it with the trigger's `budget` line.
public struct TriggerUsage: Sendable, Hashable {
    /// Runs started in the last `runsPeriod` of the trigger's budget.
    public var runsInPeriod: Int
    /// Runs of the trigger running now.
    public var running: Int
    /// Seconds of run time spent in the last `wallTimePeriod` of the trigger's budget.
    public var wallTimeSecondsInPeriod: Int

    public init(runsInPeriod: Int = 0, running: Int = 0, wallTimeSecondsInPeriod: Int = 0) {
        self.runsInPeriod = runsInPeriod
        self.running = running
        self.wallTimeSecondsInPeriod = wallTimeSecondsInPeriod
    }
}

/// One trigger the event starts, with what the launch needs.
public struct TriggerLaunch: Sendable, Hashable {
    public var trigger: String
    public var identity: String
    /// The literal argv (no interpolation, no shell).
    public var run: [String]
    public var workspace: TriggerWorkspace
    /// Payload fields the agent receives besides the normalized event.
    public var fields: [String]
    /// The secret that authenticates the trigger's deliveries (nil for schedule/manual).
    public var secret: String?
    /// Where the trigger is declared (its name).
    public var span: SourceSpan
    /// A fleet trigger's repository list (the command runs once per repository).
    public var fleet: String? = nil
}

/// Why one trigger did not accept the event.
public struct TriggerRefusal: Sendable, Hashable {
    public var trigger: String
    /// The clause that refused (`on`, `repository`, `branch`, `by`, `budget`, `schedule`).
    public var clause: String
    /// A sentence naming the value, the trigger and the line.
    public var reason: String
    /// Where the refusing clause is written.
    public var span: SourceSpan
    /// How many of the trigger's checks passed before this one (the closest match decides).
    var depth: Int
}

/// The answer to "may this event start an agent?": the triggers it starts, or why not.
public struct TriggerDecision: Sendable, Hashable {
    /// Some trigger accepts the event.
    public var allowed: Bool { !launches.isEmpty }
    /// Every trigger the event starts, in source order.
    public var launches: [TriggerLaunch]
    /// Every trigger of the event's source that refused it, in source order.
    public var refusals: [TriggerRefusal]
    /// The deciding reason: the first accepting trigger, or the refusal of the trigger that
    /// came closest to accepting (the first in source order among equals).
    public var reason: String
    /// The deciding trigger (nil when no trigger of the event's source exists).
    public var trigger: String?
    /// Where the deciding trigger or clause is written.
    public var span: SourceSpan?
}

/// Decides whether an (authenticated) event may start triggers: the single source of truth
/// for `warden serve`, `warden trigger`, `warden test` and `warden explain --trigger`. Pure:
/// budgets are compared with the caller's counts, schedules with the event's time.
///
/// Signature and token checks, de-duplication and replay limits happen before this, in the
/// server: an event reaching `decide` is taken to be genuine. Reasons quote event values
/// (logins, repositories) as received: escape them before showing them on a terminal.
public struct TriggerAuthorizer: Sendable {
    public var triggers: [CheckedTrigger]

    public init(triggers: [CheckedTrigger]) {
        self.triggers = triggers
    }

    public init(policy: CheckedPolicy) {
        self.init(triggers: policy.triggers)
    }

    /// The decision for `event`; `usage` gives a trigger's spending by name (nil: none).
    public func decide(_ event: TriggerEvent, usage: (String) -> TriggerUsage? = { _ in nil }) -> TriggerDecision {
        var launches: [TriggerLaunch] = []
        var refusals: [TriggerRefusal] = []
        for t in triggers where t.source == event.source {
            if let refusal = Self.refusal(t, event, usage(t.name)) {
                refusals.append(refusal)
            } else {
                launches.append(TriggerLaunch(trigger: t.name, identity: t.identity, run: t.run, workspace: t.workspace,
                                              fields: t.fields, secret: t.secret, span: t.nameSpan, fleet: t.fleet))
            }
        }
        if let first = launches.first {
            let others = launches.count > 1 ? " (and \(launches.count - 1) more)" : ""
            return TriggerDecision(launches: launches, refusals: refusals,
                                   reason: "trigger \(first.trigger) (line \(first.span.start.line)) starts identity \(first.identity)\(others)",
                                   trigger: first.trigger, span: first.span)
        }
        // The refusal of the trigger that got furthest; among equals the first in source order.
        var best: TriggerRefusal?
        for r in refusals where r.depth > 0 && r.depth > (best?.depth ?? 0) { best = r }
        if let best {
            return TriggerDecision(launches: [], refusals: refusals, reason: best.reason, trigger: best.trigger, span: best.span)
        }
        let what: String
        switch event.source {
        case .github, .gitlab: what = "\(event.source.rawValue) `\(event.event ?? "")` events"
        case .webhook: what = "webhook \"\(event.hook ?? "")\""
        case .schedule, .manual: what = "a \(event.source.rawValue) trigger named \(event.trigger ?? "")"
        }
        return TriggerDecision(launches: [], refusals: refusals, reason: "no trigger accepts \(what)", trigger: nil, span: nil)
    }

    /// Why `t` refuses `event` (nil: it accepts it).
    static func refusal(_ t: CheckedTrigger, _ e: TriggerEvent, _ usage: TriggerUsage?) -> TriggerRefusal? {
        var depth = 0
        func refuse(_ clause: String, _ reason: String, _ span: SourceSpan?) -> TriggerRefusal {
            let at = span ?? t.clauseSpans[clause] ?? t.nameSpan
            return TriggerRefusal(trigger: t.name, clause: clause, reason: "\(reason) (line \(at.start.line))", span: at, depth: depth)
        }
        let on = t.clauseSpans["on"]
        switch t.source {
        case .github, .gitlab:
            guard e.event == t.event else { return refuse("on", "trigger \(t.name) accepts `\(t.event ?? "")` events, not `\(e.event ?? "")`", on) }
            depth += 1
            if !t.actions.isEmpty {
                guard let action = e.action else {
                    return refuse("on", "the event has no action; trigger \(t.name) accepts only \(t.actions.joined(separator: ", "))", on)
                }
                guard t.actions.contains(action) else {
                    return refuse("on", "action `\(action)` is not one trigger \(t.name) accepts (\(t.actions.joined(separator: ", ")))", on)
                }
            }
            depth += 1
            let repo = e.repository ?? ""
            guard t.repositories.contains(where: { $0.glob.matches(repo) }) else {
                return refuse("repository", "repository '\(repo)' matches no repository pattern of trigger \(t.name)", nil)
            }
            depth += 1
            if !t.branches.isEmpty {
                guard let branch = e.branch else {
                    return refuse("branch", "the event names no branch; trigger \(t.name) accepts only \(t.branches.map { "\"\($0.glob.text)\"" }.joined(separator: ", "))", nil)
                }
                guard t.branches.contains(where: { $0.glob.matches(branch) }) else {
                    return refuse("branch", "branch '\(branch)' matches no branch pattern of trigger \(t.name)", nil)
                }
            }
            depth += 1
            if !t.senders.isEmpty {
                guard let sender = e.sender else {
                    return refuse("by", "the event names no sender; trigger \(t.name) accepts only its by list", nil)
                }
                let byLogin = t.senders.contains { $0.kind == .user && $0.pattern.matches(sender) }
                let byTeam = t.senders.contains { p in p.kind == .team && e.senderTeams.contains { p.pattern.matches($0) } }
                guard byLogin || byTeam else {
                    let teams = e.senderTeams.isEmpty ? "" : " (nor are its teams \(e.senderTeams.map { "'\($0)'" }.joined(separator: ", ")))"
                    return refuse("by", "sender '\(sender)' is not in trigger \(t.name)'s by list\(teams)", nil)
                }
            }
            depth += 1
        case .webhook:
            guard e.hook == t.hook else { return refuse("on", "trigger \(t.name) listens on hook \"\(t.hook ?? "")\", not \"\(e.hook ?? "")\"", on) }
            depth += 1
        case .schedule:
            guard e.trigger == t.name else { return refuse("on", "trigger \(t.name) is not the one asked for", on) }
            depth += 1
            if let time = e.time, let schedule = t.schedule {
                switch CronClock.fires(schedule, zone: t.timeZone, at: time) {
                case .yes: break
                case .no(let next):
                    return refuse("on", "trigger \(t.name)'s schedule \"\(schedule.text)\" (\(t.timeZone)) does not fire at \(time.text)"
                                  + (next.map { "; it next fires at \($0)" } ?? ""), on)
                case .unknownZone:
                    return refuse("on", "time zone \(t.timeZone) of trigger \(t.name) is unknown to this system", on)
                }
            }
            depth += 1
        case .manual:
            guard e.trigger == t.name else { return refuse("on", "trigger \(t.name) is not the one asked for", on) }
            depth += 1
            guard let user = e.localUser else { return refuse("by", "the launch names no user; trigger \(t.name) accepts only its by list", nil) }
            let byUser = t.senders.contains { $0.kind == .user && $0.pattern.matches(user.name) }
            let byGroup = t.senders.contains { p in p.kind == .group && user.groups.contains { p.pattern.matches($0) } }
            guard byUser || byGroup else {
                let groups = user.groups.isEmpty ? "" : " (nor are its groups \(user.groups.map { "'\($0)'" }.joined(separator: ", ")))"
                return refuse("by", "user '\(user.name)' is not in trigger \(t.name)'s by list\(groups)", nil)
            }
            depth += 1
        }
        if let usage {
            let b = t.budget
            // A fleet's `concurrent` caps how many of its runs go at once; it does not refuse
            // the firing (`warden serve` refuses a firing while the trigger's last fleet is going).
            if let limit = b.concurrent, t.fleet == nil, usage.running >= limit {
                return refuse("budget", "trigger \(t.name) already has \(usage.running) runs going (budget concurrent \(limit))", b.spans["concurrent"])
            }
            if let limit = b.runsCount, usage.runsInPeriod >= limit {
                return refuse("budget", "trigger \(t.name) started \(usage.runsInPeriod) runs in the last \(b.runsPeriod.rawValue) (budget runs \(limit) per \(b.runsPeriod.rawValue))", b.spans["runs"])
            }
            if let limit = b.wallTimeSeconds, usage.wallTimeSecondsInPeriod >= limit {
                return refuse("budget", "trigger \(t.name) used \(LimitValue.canonicalDuration(UInt64(max(0, usage.wallTimeSecondsInPeriod)))) of run time in the last \(b.wallTimePeriod.rawValue) (budget wall-time \(LimitValue.canonicalDuration(UInt64(limit))) per \(b.wallTimePeriod.rawValue))", b.spans["wall-time"])
            }
        }
        return nil
    }
}

extension TriggerAuthorizer {
    /// The decision as `warden test` and `explain` show it: allowed when the event starts
    /// some trigger (when `identity` is given, a trigger of that identity), with the deciding
    /// trigger or clause as the rule and the reason as the note.
    public func decision(_ event: TriggerEvent, identity: String?, usage: (String) -> TriggerUsage? = { _ in nil }) -> Decision {
        let d = decide(event, usage: usage)
        func rule(_ trigger: String?, _ clause: String?, _ span: SourceSpan?) -> [Provenance] {
            guard let trigger, let span else { return [] }
            return [Provenance(file: span.file, line: span.start.line, column: span.start.column, via: [], because: nil,
                               rule: "trigger \(trigger)" + (clause.map { ": \($0)" } ?? ""))]
        }
        if let identity {
            if let launch = d.launches.first(where: { $0.identity == identity }) {
                return Decision(effect: .allow, rules: rule(launch.trigger, nil, launch.span), mechanism: "launch authorization",
                                note: "trigger \(launch.trigger) (line \(launch.span.start.line)) starts identity \(identity)")
            }
            if let other = d.launches.first {
                return Decision(effect: .deny, rules: rule(other.trigger, nil, other.span), mechanism: "launch authorization",
                                note: "the event starts trigger \(other.trigger) (identity \(other.identity)), no trigger of identity \(identity)")
            }
        } else if let launch = d.launches.first {
            return Decision(effect: .allow, rules: rule(launch.trigger, nil, launch.span), mechanism: "launch authorization", note: d.reason)
        }
        let clause = d.trigger.flatMap { name in d.refusals.first { $0.trigger == name }?.clause }
        return Decision(effect: .deny, rules: rule(d.trigger, clause, d.span), mechanism: "launch authorization", note: d.reason)
    }
}
