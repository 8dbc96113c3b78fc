/// The variables a path may start with; they are bound at launch.
public enum PathVariable: String, Sendable, Hashable, CaseIterable, Codable {
    case workspace, home, tmp
}

/// A validated, normalised path: an absolute path, or a variable followed by components.
/// Kept unexpanded: variables bind when an agent is launched.
public struct PolicyPath: Sendable, Hashable, Codable, CustomStringConvertible {
    /// nil for a path starting with `/`.
    public var base: PathVariable?
    /// Non-empty components, none `.` or `..`.
    public var components: [String]

    public init(base: PathVariable?, components: [String]) {
        self.base = base
        self.components = components
    }

    /// The normalised unexpanded form: `/usr/lib`, `${workspace}/.git/hooks`, `/`, `${tmp}`.
    public var description: String {
        let tail = components.joined(separator: "/")
        if let base { return tail.isEmpty ? "${\(base.rawValue)}" : "${\(base.rawValue)}/\(tail)" }
        return "/" + tail
    }

    /// The absolute path, given a binding for each variable (values must be absolute).
    public func expanded(_ binding: (PathVariable) -> String) -> String {
        guard let base else { return description }
        var root = binding(base)
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        if components.isEmpty { return root }
        return (root == "/" ? "" : root) + "/" + components.joined(separator: "/")
    }

    /// Whether `self` is `other` or lies under it (same base, component prefix).
    public func isWithin(_ other: PolicyPath) -> Bool {
        base == other.base && components.count >= other.components.count
            && Array(components.prefix(other.components.count)) == other.components
    }

    /// Parses and validates a path string as written in a policy.
    public static func parse(_ text: String) -> Result<PolicyPath, ValueError> {
        var rest = Substring(text)
        var base: PathVariable?
        if rest.hasPrefix("${") {
            guard let close = rest.firstIndex(of: "}") else {
                return .failure(ValueError("invalid-path", "unterminated variable in path `\(text)`", help: "write variables as `${workspace}`"))
            }
            let name = String(rest[rest.index(rest.startIndex, offsetBy: 2)..<close])
            guard let v = PathVariable(rawValue: name) else {
                let help = Suggestions.closest(to: name, in: PathVariable.allCases.map(\.rawValue)).map { "did you mean `${\($0)}`?" }
                    ?? "the variables are ${workspace}, ${home} and ${tmp}"
                return .failure(ValueError("unknown-variable", "unknown variable `${\(name)}`", help: help))
            }
            base = v
            rest = rest[rest.index(after: close)...]
            if !rest.isEmpty, !rest.hasPrefix("/") {
                return .failure(ValueError("invalid-path", "a `/` must follow `${\(name)}` in `\(text)`",
                                           help: "write `${\(name)}/\(rest)`"))
            }
        } else if !rest.hasPrefix("/") {
            let help = text.isEmpty ? "write an absolute path such as \"/usr\"" : "write \"/\(text)\" or \"${workspace}/\(text)\""
            return .failure(ValueError("relative-path", "path `\(text)` is not absolute", help: help))
        }
        // Drop one trailing "/" (and only that: "//" leaves an empty component).
        if rest.count > 1, rest.hasSuffix("/") { rest = rest.dropLast() }
        var components: [String] = []
        if rest == "/" { return .success(PolicyPath(base: base, components: [])) }
        guard !rest.isEmpty else { return .success(PolicyPath(base: base, components: [])) }
        for c in rest.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if c.isEmpty {
                return .failure(ValueError("invalid-path", "path `\(text)` has an empty component (`//`)", help: "remove the repeated `/`"))
            }
            if c == "." || c == ".." {
                return .failure(ValueError("invalid-path", "path `\(text)` contains a `\(c)` component",
                                           help: "write the path without `.` or `..`: rules must name the real location"))
            }
            if c.contains("${") {
                return .failure(ValueError("invalid-path", "a variable may only start a path (`\(text)`)"))
            }
            if c.utf8.contains(0) {
                return .failure(ValueError("invalid-path", "path `\(text)` contains a NUL byte"))
            }
            components.append(String(c))
        }
        return .success(PolicyPath(base: base, components: components))
    }
}
