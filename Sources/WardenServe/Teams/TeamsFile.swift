import WardenPolicy

/// The operator's membership file (`warden serve --teams FILE`): which logins belong to
/// which GitHub teams and GitLab groups, one team per line:
///
///     # forge  team            members...
///     github   acme/engineers  alice bob
///     gitlab   acme/platform/sre  carol
///
/// Fields are separated by spaces or tabs; `#` starts a comment (at the start of a line or
/// after a blank). A GitHub team is `org/slug` (two parts); a GitLab group is its full
/// path (one part or more). Names are 1-100 of `A-Z a-z 0-9 . _ -` per part (no wildcards:
/// the file lists facts; the policy's `team` patterns are matched against them) and compare
/// without regard to ASCII case. A team on several lines has the members of all of them;
/// a team with no members admits no one.
public struct TeamsFile: Sendable, Equatable {
    /// Per forge: team (lowercased) to its members (lowercased).
    public private(set) var teams: [TriggerSourceKind: [String: Set<String>]] = [:]
    /// Per forge: the first line that names one of its teams.
    public private(set) var firstLine: [TriggerSourceKind: Int] = [:]

    /// The largest file read.
    public static let maxBytes = 1 << 20
    /// The longest name part (a login, an org, a slug, a group path segment).
    static let maxPart = 100
    /// The longest team or group path.
    static let maxTeam = 256

    public init() {}

    /// Parses the file's text; the first bad line is an error that names it.
    public static func parse(_ bytes: [UInt8]) throws(TeamsFileError) -> TeamsFile {
        var file = TeamsFile()
        var number = 0
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            var line = Array(raw)
            if line.last == 0x0D { line.removeLast() }
            let fields = try Self.fields(line, number)
            guard let forgeText = fields.first else { continue }
            let forge: TriggerSourceKind
            switch forgeText {
            case "github": forge = .github
            case "gitlab": forge = .gitlab
            default:
                throw TeamsFileError(number, "`\(forgeText)` is not a forge; a line starts with `github` or `gitlab`")
            }
            guard fields.count >= 2 else {
                throw TeamsFileError(number, "`\(forgeText)` names no team; write `\(forgeText) \(forge == .github ? "ORG/SLUG" : "GROUP/PATH") LOGIN...`")
            }
            let team = try Self.team(fields[1], forge: forge, number)
            var members = file.teams[forge, default: [:]][team, default: []]
            for login in fields.dropFirst(2) {
                try Self.checkName(login, what: "login", number)
                members.insert(login.lowercased())
            }
            file.teams[forge, default: [:]][team] = members
            if file.firstLine[forge] == nil { file.firstLine[forge] = number }
        }
        return file
    }

    /// The teams of `forge` matching `pattern` that `login` belongs to (lowercased, sorted).
    public func teams(of login: String, forge: TriggerSourceKind, matching pattern: TriggerGlob) -> [String] {
        let who = login.lowercased()
        return (teams[forge] ?? [:]).filter { $0.value.contains(who) && pattern.matches($0.key) }.keys.sorted()
    }

    /// The blank-separated fields of a line, without its comment.
    static func fields(_ line: [UInt8], _ number: Int) throws(TeamsFileError) -> [String] {
        var out: [String] = []
        var current: [UInt8] = []
        for b in line {
            if b == 0x20 || b == 0x09 {
                if !current.isEmpty { out.append(String(decoding: current, as: UTF8.self)); current = [] }
                continue
            }
            if b == UInt8(ascii: "#"), current.isEmpty { break }
            guard b > 0x20, b < 0x7F else {
                throw TeamsFileError(number, "byte 0x\(String(b, radix: 16)) is not allowed (names are printable ASCII)")
            }
            current.append(b)
        }
        if !current.isEmpty { out.append(String(decoding: current, as: UTF8.self)) }
        return out
    }

    static func team(_ text: String, forge: TriggerSourceKind, _ number: Int) throws(TeamsFileError) -> String {
        guard text.utf8.count <= maxTeam else { throw TeamsFileError(number, "the team is longer than \(maxTeam) bytes") }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if forge == .github, parts.count != 2 {
            throw TeamsFileError(number, "GitHub team `\(text)` is not `ORG/SLUG`")
        }
        for part in parts { try checkName(String(part), what: forge == .github ? "team" : "group", number, whole: text) }
        return text.lowercased()
    }

    static func checkName(_ name: String, what: String, _ number: Int, whole: String? = nil) throws(TeamsFileError) {
        let shown = whole ?? name
        guard !name.isEmpty else { throw TeamsFileError(number, "\(what) `\(shown)` has an empty part") }
        guard name.utf8.count <= maxPart else { throw TeamsFileError(number, "\(what) `\(shown)` has a part longer than \(maxPart) bytes") }
        guard name.utf8.allSatisfy({ isNameByte($0) }) else {
            let hint = name.contains("*") || name.contains("?") ? " (the file lists names, not patterns)" : ""
            throw TeamsFileError(number, "\(what) `\(shown)` has a character outside A-Z a-z 0-9 . _ -\(hint)")
        }
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2E || b == 0x5F || b == 0x2D
    }
}

/// A line of the teams file that is not right: its number and why.
public struct TeamsFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    init(_ line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}
