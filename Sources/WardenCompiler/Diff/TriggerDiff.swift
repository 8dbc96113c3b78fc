import WardenPolicy

/// The trigger domain of `warden diff`: which events may start an identity.
///
/// Method, as for the other domains: representative events are built from every value
/// either version's triggers mention (each pattern instantiated: `*` and `?` as `x`, `**`
/// as `x/x`; each action, hook, trigger name, login, team, user and group; plus one value
/// no pattern names for each field), each is decided on both sides with
/// `TriggerAuthorizer` (the function `warden trigger`, `warden test` and `explain
/// --trigger` use), and one witness is reported per deciding trigger and direction.
///
/// Fail closed: when the triggers differ in what decides (their sources, events, actions,
/// patterns, senders) and no representative tells the versions apart, the comparison
/// cannot prove the change harmless and refuses to answer (`tooComplex`, exit 2) rather
/// than call it equivalent. Budgets bound how much a trigger may start (`budgetChanges`,
/// like limits). Changes that decide nothing (the command, the workspace, fields, the
/// description, where a trigger is written) run under the identity's own permissions and
/// are not reported.
enum TriggerDiff {
    /// At most this many representative events per identity.
    static let maxEvents = 20_000

    static func changes(old: EffectivePolicy, new: EffectivePolicy) throws(PolicyDiffError) -> DomainChanges {
        var changes = try authorizationChanges(old: old, new: new)
        changes.append(budgetChanges(old: old, new: new))
        return changes
    }

    /// Budgets raised or removed (wider: the amount just past the old bound is now allowed)
    /// and lowered or added (narrower), for the triggers that start the identity in both
    /// versions (a trigger added or removed is reported by the events it decides).
    static func budgetChanges(old: EffectivePolicy, new: EffectivePolicy) -> DomainChanges {
        var changes = DomainChanges()
        for before in old.triggers {
            guard let after = new.triggers.first(where: { $0.name == before.name }),
                  TriggerBudgetProbe.Bounds(before.budget) != TriggerBudgetProbe.Bounds(after.budget) else { continue }
            let probes = Set(TriggerBudgetProbe.edges(of: before.budget) + TriggerBudgetProbe.edges(of: after.budget))
            for probe in probes.sorted(by: { $0.action < $1.action }) {
                let w = DiffWitness(probe: .triggerBudget(trigger: before.name, probe), old: old, new: new)
                if w.widens { changes.widenings.append(w) } else if w.narrows { changes.narrowings.append(w) }
            }
        }
        return changes
    }

    /// Which events may start the identity: decided on representative events.
    static func authorizationChanges(old: EffectivePolicy, new: EffectivePolicy) throws(PolicyDiffError) -> DomainChanges {
        let before = old.triggers.map(authorizationPart), after = new.triggers.map(authorizationPart)
        guard before != after else { return DomainChanges() }
        let events = representatives(old.triggers + new.triggers)
        guard events.count <= maxEvents else {
            throw .tooComplex(identity: new.identity, domain: .trigger, detail: "\(events.count) representative events (at most \(maxEvents))")
        }
        var changes = DomainChanges()
        var seen: Set<String> = []
        for event in events {
            let w = DiffWitness(probe: .trigger(event), old: old, new: new)
            guard w.widens || w.narrows else { continue }
            // One witness per direction, allowing trigger and refusing clause.
            let refusing = (w.widens ? w.old : w.new).rules.first?.rule ?? ""
            let key = (w.widens ? "+" : "-") + (w.allowingRules.first?.rule ?? "") + "|" + refusing
            guard seen.insert(key).inserted else { continue }
            if w.widens { changes.widenings.append(w) } else { changes.narrowings.append(w) }
        }
        if changes.widenings.isEmpty && changes.narrowings.isEmpty && Set(before) != Set(after) {
            throw .tooComplex(identity: new.identity, domain: .trigger,
                              detail: "the triggers changed in what decides, and no representative event tells the versions apart")
        }
        return changes
    }

    /// What of a trigger decides whether an event starts it (no locations, no command).
    struct AuthorizationPart: Hashable {
        var name: String, source: TriggerSourceKind, event: String?, actions: [String], hook: String?
        var repositories: [String], branches: [String], senders: [String]
    }

    static func authorizationPart(_ t: CheckedTrigger) -> AuthorizationPart {
        AuthorizationPart(name: t.name, source: t.source, event: t.event, actions: t.actions, hook: t.hook,
                          repositories: t.repositories.map(\.glob.text), branches: t.branches.map(\.glob.text),
                          senders: t.senders.map { "\($0.kind.rawValue):\($0.pattern.text)" })
    }

    /// A value the pattern matches.
    static func instance(_ glob: TriggerGlob) -> String {
        var out = ""
        var chars = Array(glob.text)
        var i = 0
        while i < chars.count {
            if chars[i] == "*", i + 1 < chars.count, chars[i + 1] == "*" {
                out += "x/x"
                i += 2
            } else if chars[i] == "*" || chars[i] == "?" {
                out += "x"
                i += 1
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        chars.removeAll()
        return out
    }

    static let unnamed = "warden-diff-unnamed"

    /// Events built from every value the triggers mention, per source.
    static func representatives(_ triggers: [CheckedTrigger]) -> [TriggerEvent] {
        var events: [TriggerEvent] = []
        for source in TriggerSourceKind.allCases {
            let ts = triggers.filter { $0.source == source }
            guard !ts.isEmpty else { continue }
            func values(_ f: (CheckedTrigger) -> [String]) -> [String] { Array(Set(ts.flatMap(f))).sorted() }
            switch source {
            case .github, .gitlab:
                let names = values { $0.event.map { [$0] } ?? [] }
                let actions = values { $0.actions } + [unnamed]
                let repos = values { $0.repositories.map { instance($0.glob) } } + ["\(unnamed)/\(unnamed)"]
                let branches: [String?] = [nil] + values { $0.branches.map { instance($0.glob) } } + [unnamed]
                let logins = values { $0.senders.filter { $0.kind == .user }.map { instance($0.pattern) } } + [unnamed]
                let teams = values { $0.senders.filter { $0.kind == .team }.map { instance($0.pattern) } }
                let senders: [(String, [String])] = logins.map { ($0, []) } + teams.map { (unnamed, [$0]) }
                for name in names {
                    for action in actions {
                        for repo in repos {
                            for branch in branches {
                                for (login, team) in senders {
                                    events.append(.forge(source, event: name, action: action, repository: repo, branch: branch,
                                                         sender: login, senderTeams: team))
                                    if events.count > maxEvents { return events }
                                }
                            }
                        }
                    }
                }
            case .webhook:
                for hook in values({ $0.hook.map { [$0] } ?? [] }) + [unnamed] { events.append(.webhook(hook)) }
            case .schedule:
                for name in values({ [$0.name] }) { events.append(.schedule(name)) }
            case .manual:
                let users = values { $0.senders.filter { $0.kind == .user }.map { instance($0.pattern) } } + [unnamed]
                let groups = values { $0.senders.filter { $0.kind == .group }.map { instance($0.pattern) } }
                for name in values({ [$0.name] }) {
                    for user in users { events.append(.manual(name, by: .init(name: user, groups: []))) }
                    for group in groups { events.append(.manual(name, by: .init(name: unnamed, groups: [group]))) }
                }
            }
        }
        return events
    }

    /// `explain --trigger` words for `event` (its `words` without quotes).
    static func explainWords(_ e: TriggerEvent) -> [String] {
        var w: [String] = [e.source.rawValue]
        switch e.source {
        case .github, .gitlab:
            w.append(e.event ?? "")
            if let a = e.action { w.append(a) }
            w.append(e.repository ?? "")
            if let b = e.branch { w += ["branch", b] }
            if let s = e.sender { w += ["by", s] }
            if !e.senderTeams.isEmpty { w += ["team"] + e.senderTeams }
        case .webhook: w.append(e.hook ?? "")
        case .schedule: w.append(e.trigger ?? "")
        case .manual:
            w.append(e.trigger ?? "")
            if let u = e.localUser {
                w += ["by", u.name]
                if !u.groups.isEmpty { w += ["group"] + u.groups }
            }
        }
        return w
    }
}
