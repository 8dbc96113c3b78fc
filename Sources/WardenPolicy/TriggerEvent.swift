// The event model the launch-authorization decision takes (WardenCompiler's
// `TriggerAuthorizer`), and the times schedule tests name.

/// A wall-clock time written in a test (`at "2026-03-29T02:30"`), read in the trigger's
/// zone, or an instant when written with `Z` or an offset.
public struct TriggerTime: Sendable, Hashable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int
    /// Seconds east of UTC when the text gave an offset (`Z` is 0); nil: the trigger's zone.
    public var utcOffset: Int?
    public var text: String

    public var description: String { text }

    /// Parses `YYYY-MM-DDTHH:MM[Z|±HH:MM]`.
    public static func parse(_ s: String) -> TriggerTime? {
        let b = Array(s.utf8)
        guard b.count >= 16, b.count <= 22, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x20, b[13] == 0x3A else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= b.count, b[r].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int(String(decoding: b[r], as: UTF8.self))
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16),
              (1...12).contains(mo), (1...CivilDate.length(year: y, month: mo)).contains(d), (0...23).contains(h), (0...59).contains(mi) else { return nil }
        var offset: Int?
        let rest = b[16...]
        if rest.isEmpty {
            offset = nil
        } else if rest.elementsEqual("Z".utf8) {
            offset = 0
        } else if rest.count == 6, rest.first == 0x2B || rest.first == 0x2D, b[19] == 0x3A, let oh = num(17..<19), let om = num(20..<22), oh <= 18, om < 60 {
            offset = (oh * 3600 + om * 60) * (rest.first == 0x2D ? -1 : 1)
        } else {
            return nil
        }
        return TriggerTime(year: y, month: mo, day: d, hour: h, minute: mi, utcOffset: offset, text: s)
    }
}

/// An event that asks to start triggers: a webhook delivery (already authenticated by its
/// signature or token), a schedule firing, or a person's manual launch.
public struct TriggerEvent: Sendable, Hashable {
    public var source: TriggerSourceKind
    /// github/gitlab: the event name (`pull_request`; GitLab's `object_kind`, `merge_request`).
    public var event: String?
    /// github/gitlab: the event's action (`opened`; GitLab's `object_attributes.action`).
    public var action: String?
    /// github/gitlab: `owner/name` (GitLab: the project's full path).
    public var repository: String?
    /// github/gitlab: the base branch, without `refs/heads/` (a pull request's `base.ref`, a
    /// merge request's `target_branch`, a push's branch); nil for a tag push or an event
    /// without one (a trigger with `branch` then refuses it).
    public var branch: String?
    /// github/gitlab: the sender's login.
    public var sender: String?
    /// github/gitlab: the teams (`org/slug`) or groups (full path) the sender belongs to.
    /// Webhook payloads do not carry them: the caller looks them up (and may leave them
    /// empty, which only `by team` entries notice).
    public var senderTeams: [String] = []
    /// webhook: the hook name.
    public var hook: String?
    /// schedule/manual: the trigger asked for by name.
    public var trigger: String?
    /// schedule: when it fires (checked against the trigger's schedule when given).
    public var time: TriggerTime?
    /// manual: the local user asking.
    public var localUser: LocalUser?

    /// A local user: numeric ids and names (names resolved by the caller, e.g. from NSS).
    public struct LocalUser: Sendable, Hashable {
        public var uid: UInt32?
        public var gid: UInt32?
        public var name: String
        public var groups: [String]

        public init(uid: UInt32? = nil, gid: UInt32? = nil, name: String, groups: [String] = []) {
            self.uid = uid
            self.gid = gid
            self.name = name
            self.groups = groups
        }
    }

    public init(source: TriggerSourceKind) { self.source = source }

    /// A GitHub or GitLab delivery.
    public static func forge(_ source: TriggerSourceKind, event: String, action: String?, repository: String, branch: String? = nil,
                             sender: String? = nil, senderTeams: [String] = []) -> TriggerEvent {
        var e = TriggerEvent(source: source)
        e.event = event
        e.action = action
        e.repository = repository
        e.branch = branch
        e.sender = sender
        e.senderTeams = senderTeams
        return e
    }

    /// A generic webhook delivery.
    public static func webhook(_ hook: String) -> TriggerEvent {
        var e = TriggerEvent(source: .webhook)
        e.hook = hook
        return e
    }

    /// A schedule firing of `trigger`, optionally at `time`.
    public static func schedule(_ trigger: String, at time: TriggerTime? = nil) -> TriggerEvent {
        var e = TriggerEvent(source: .schedule)
        e.trigger = trigger
        e.time = time
        return e
    }

    /// A manual launch of `trigger` by `user`.
    public static func manual(_ trigger: String, by user: LocalUser) -> TriggerEvent {
        var e = TriggerEvent(source: .manual)
        e.trigger = trigger
        e.localUser = user
        return e
    }

    /// The event in the words `expect ... trigger` and `explain --trigger` take.
    public var words: String {
        func q(_ s: String) -> String { "\"" + s + "\"" }
        var w: [String] = [source.rawValue]
        switch source {
        case .github, .gitlab:
            w.append(event ?? "?")
            if let action { w.append(action) }
            w.append(q(repository ?? ""))
            if let branch { w += ["branch", q(branch)] }
            if let sender { w += ["by", q(sender)] }
            if !senderTeams.isEmpty { w += ["team", senderTeams.map(q).joined(separator: ", ")] }
        case .webhook:
            w.append(q(hook ?? ""))
        case .schedule:
            w.append(trigger ?? "?")
            if let time { w += ["at", q(time.text)] }
        case .manual:
            w.append(trigger ?? "?")
            if let u = localUser {
                w += ["by", q(u.name)]
                if !u.groups.isEmpty { w += ["group", u.groups.map(q).joined(separator: ", ")] }
            }
        }
        return w.joined(separator: " ")
    }
}
