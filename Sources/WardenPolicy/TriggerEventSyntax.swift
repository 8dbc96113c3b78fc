/// The one syntax of an event that `expect allow|deny trigger ...` and `warden explain
/// --trigger ...` share:
///
///     github|gitlab EVENT [ACTION] REPOSITORY [branch BRANCH] [by LOGIN] [team TEAM, ...]
///     webhook HOOK
///     schedule TRIGGER [at TIME]
///     manual TRIGGER by USER [group GROUP, ...]
///
/// In a policy the repository, branch, logins, teams, groups, hook and time are quoted
/// strings; on a command line the shell has removed the quotes, so a word is an action
/// only when it has no `/` and a repository follows it.
public enum TriggerEventSyntax {
    /// Why the words are not an event, and which word (index) is wrong (nil: the end).
    public struct Problem: Error, Sendable, Hashable {
        public var message: String
        public var word: Int?
        public var help: String?
    }

    static let keywords: Set<String> = ["branch", "by", "team", "group", "at"]

    /// At most this many words (a longer event is hostile input).
    public static let maxWords = 256

    public static let usage = "github|gitlab EVENT [ACTION] \"OWNER/REPO\" [branch \"B\"] [by \"LOGIN\"] [team \"ORG/TEAM\", ...] | webhook \"HOOK\" | schedule TRIGGER [at \"YYYY-MM-DDTHH:MM\"] | manual TRIGGER by \"USER\" [group \"G\", ...]"

    /// The event the words describe.
    public static func parse(_ words: [String]) -> Result<TriggerEvent, Problem> {
        func fail(_ message: String, _ word: Int?, _ help: String? = nil) -> Result<TriggerEvent, Problem> {
            .failure(Problem(message: message, word: word, help: help))
        }
        guard words.count <= maxWords else { return fail("an event of \(words.count) words is longer than the \(maxWords) allowed", maxWords) }
        guard let first = words.first else { return fail("expected an event source", nil, usage) }
        guard let source = TriggerSourceKind(rawValue: first) else {
            return fail("`\(first)` is not an event source", 0, Suggestions.help(for: first, in: TriggerSourceKind.allCases.map(\.rawValue))
                        ?? "the sources are github, gitlab, webhook, schedule and manual")
        }
        var i = 1
        func take() -> String? {
            guard i < words.count else { return nil }
            defer { i += 1 }
            return words[i]
        }
        /// The values after a keyword, up to the next keyword.
        func list() -> [String] {
            var out: [String] = []
            while i < words.count, !keywords.contains(words[i]) {
                out.append(words[i])
                i += 1
            }
            return out
        }
        var event = TriggerEvent(source: source)
        switch source {
        case .github, .gitlab:
            guard let name = take(), !keywords.contains(name) else { return fail("expected the event name after `\(first)`", i - 1, usage) }
            event.event = name
            guard i < words.count else { return fail("expected the repository after `\(name)`", nil, usage) }
            if !words[i].contains("/"), i + 1 < words.count, !keywords.contains(words[i + 1]) {
                event.action = words[i]
                i += 1
            }
            guard let repo = take(), !keywords.contains(repo) else { return fail("expected the repository (\"owner/name\")", i - 1, usage) }
            guard repo.contains("/") else { return fail("`\(repo)` is not a repository: write \"owner/name\"", i - 1) }
            event.repository = repo
            var seen: Set<String> = []
            while let word = take() {
                guard keywords.contains(word), word != "group", word != "at" else {
                    return fail("unexpected `\(word)` in a \(first) event", i - 1, "after the repository come `branch`, `by` and `team`")
                }
                guard seen.insert(word).inserted else { return fail("`\(word)` is given twice", i - 1) }
                let values = list()
                guard !values.isEmpty else { return fail("expected a value after `\(word)`", nil) }
                switch word {
                case "branch", "by":
                    guard values.count == 1 else { return fail("`\(word)` takes one value", i - values.count + 1) }
                    if word == "branch" { event.branch = values[0] } else { event.sender = values[0] }
                default:
                    event.senderTeams = values
                }
            }
            if !event.senderTeams.isEmpty, event.sender == nil {
                return fail("`team` describes the sender: give `by \"LOGIN\"` too", nil)
            }
        case .webhook:
            guard let hook = take() else { return fail("expected the hook name after `webhook`", nil, usage) }
            event.hook = hook
            if i < words.count { return fail("unexpected `\(words[i])` after the hook name", i) }
        case .schedule, .manual:
            guard let name = take(), !keywords.contains(name) else { return fail("expected the trigger's name after `\(first)`", i - 1, usage) }
            event.trigger = name
            if source == .schedule {
                if let word = take() {
                    guard word == "at", let text = take(), i == words.count else {
                        return fail("a schedule event takes only `at \"YYYY-MM-DDTHH:MM\"`", i - 1)
                    }
                    guard let time = TriggerTime.parse(text) else {
                        return fail("`\(text)` is not a time", i - 1, "write \"YYYY-MM-DDTHH:MM\" (the trigger's time zone) or add `Z` or an offset like +02:00")
                    }
                    event.time = time
                }
            } else {
                var user: String?
                var groups: [String] = []
                var seen: Set<String> = []
                while let word = take() {
                    guard word == "by" || word == "group" else { return fail("unexpected `\(word)` in a manual event", i - 1, "write `by \"USER\" group \"GROUP\"`") }
                    guard seen.insert(word).inserted else { return fail("`\(word)` is given twice", i - 1) }
                    let values = list()
                    guard !values.isEmpty else { return fail("expected a value after `\(word)`", nil) }
                    if word == "by" {
                        guard values.count == 1 else { return fail("`by` takes one user", i - values.count + 1) }
                        user = values[0]
                    } else {
                        groups = values
                    }
                }
                guard let user else { return fail("a manual event says who starts it: add `by \"USER\"`", nil) }
                event.localUser = TriggerEvent.LocalUser(name: user, groups: groups)
            }
        }
        return .success(event)
    }
}
