import WardenPolicy

/// The endpoint a request's path names: `/hooks/github`, `/hooks/gitlab`, or
/// `/hooks/webhook/NAME` (NAME: 1-64 of `a-z 0-9 - _`, as `on webhook "NAME"` requires).
public enum WebhookEndpoint: Sendable, Hashable, CustomStringConvertible {
    case github
    case gitlab
    /// A generic webhook named by the last path segment.
    case hook(String)

    /// The longest hook name.
    public static let maxHookLength = 64

    /// The endpoint `path` names, or nil (the server answers 404). The path is matched
    /// exactly: no query, no trailing slash, no percent-encoding, no other case.
    public static func parse(path: String) -> WebhookEndpoint? {
        switch path {
        case "/hooks/github": return .github
        case "/hooks/gitlab": return .gitlab
        default:
            let prefix = "/hooks/webhook/"
            guard path.utf8.starts(with: prefix.utf8) else { return nil }
            let name = String(decoding: path.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
            return isHookName(name) ? .hook(name) : nil
        }
    }

    /// Whether `name` is a valid hook name: 1-64 of `a-z 0-9 - _`.
    public static func isHookName(_ name: String) -> Bool {
        let b = name.utf8
        return (1...maxHookLength).contains(b.count) && b.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
        }
    }

    /// The trigger source deliveries to this endpoint come from.
    public var source: TriggerSourceKind {
        switch self {
        case .github: return .github
        case .gitlab: return .gitlab
        case .hook: return .webhook
        }
    }

    /// The path this endpoint is served at.
    public var path: String {
        switch self {
        case .github: return "/hooks/github"
        case .gitlab: return "/hooks/gitlab"
        case .hook(let name): return "/hooks/webhook/" + name
        }
    }

    public var description: String { path }

    /// The triggers deliveries to this endpoint are meant for: the triggers of its source,
    /// and for a generic webhook those listening on its name (the `candidates` to authenticate with).
    public func candidates(in triggers: [CheckedTrigger]) -> [CheckedTrigger] {
        triggers.filter { t in
            guard t.source == source else { return false }
            if case .hook(let name) = self { return t.hook == name }
            return true
        }
    }
}
