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
            && zip(components, other.components).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }

    /// Equal when the kernel would see the same path: byte for byte. (Swift's `==` on
    /// strings is canonical equivalence: the Kelvin sign U+212A equals `K`, and a
    /// decomposed `é` the composed one, though each names a different file.)
    public static func == (a: PolicyPath, b: PolicyPath) -> Bool {
        a.base == b.base && a.components.count == b.components.count
            && zip(a.components, b.components).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(base)
        hasher.combine(components.count)
        for c in components {
            hasher.combine(c.utf8.count)
            for byte in c.utf8 { hasher.combine(byte) }
        }
    }

    /// Parses and validates a path string as written in a policy.
    ///
    /// Works on the UTF-8 bytes, as the kernel does: every `/` byte separates components.
    /// (Split as Swift characters, `/` followed by a combining mark would not separate, and
    /// a component would hold a `/`.)
    public static func parse(_ text: String) -> Result<PolicyPath, ValueError> {
        let slash = UInt8(ascii: "/")
        let bytes = Array(text.utf8)
        func string(_ part: ArraySlice<UInt8>) -> String { String(decoding: part, as: UTF8.self) }
        var start = 0
        var base: PathVariable?
        if bytes.starts(with: [UInt8(ascii: "$"), UInt8(ascii: "{")]) {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "}")) else {
                return .failure(ValueError("invalid-path", "unterminated variable in path `\(text)`", help: "write variables as `${workspace}`"))
            }
            let name = string(bytes[2..<close])
            guard let v = PathVariable(rawValue: name) else {
                let help = Suggestions.closest(to: name, in: PathVariable.allCases.map(\.rawValue)).map { "did you mean `${\($0)}`?" }
                    ?? "the variables are ${workspace}, ${home} and ${tmp}"
                return .failure(ValueError("unknown-variable", "unknown variable `${\(name)}`", help: help))
            }
            base = v
            start = close + 1
            if start < bytes.count, bytes[start] != slash {
                return .failure(ValueError("invalid-path", "a `/` must follow `${\(name)}` in `\(text)`",
                                           help: "write `${\(name)}/\(string(bytes[start...]))`"))
            }
        } else if bytes.first != slash {
            let help = text.isEmpty ? "write an absolute path such as \"/usr\"" : "write \"/\(text)\" or \"${workspace}/\(text)\""
            return .failure(ValueError("relative-path", "path `\(text)` is not absolute", help: help))
        }
        var rest = bytes[start...]
        // Drop one trailing "/" (and only that: "//" leaves an empty component).
        if rest.count > 1, rest.last == slash { rest = rest.dropLast() }
        guard rest.count > 1 else { return .success(PolicyPath(base: base, components: [])) }  // "", "/"
        var components: [String] = []
        for c in rest.dropFirst().split(separator: slash, omittingEmptySubsequences: false) {
            if c.isEmpty {
                return .failure(ValueError("invalid-path", "path `\(text)` has an empty component (`//`)", help: "remove the repeated `/`"))
            }
            if c.elementsEqual([UInt8(ascii: ".")]) || c.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                return .failure(ValueError("invalid-path", "path `\(text)` contains a `\(string(c))` component",
                                           help: "write the path without `.` or `..`: rules must name the real location"))
            }
            if zip(c, c.dropFirst()).contains(where: { $0 == UInt8(ascii: "$") && $1 == UInt8(ascii: "{") }) {
                return .failure(ValueError("invalid-path", "a variable may only start a path (`\(text)`)"))
            }
            if c.contains(0) {
                return .failure(ValueError("invalid-path", "path `\(text)` contains a NUL byte"))
            }
            components.append(string(c))
        }
        return .success(PolicyPath(base: base, components: components))
    }
}
