/// The value of an `env set` statement: text with `${workspace}`, `${home}` and `${tmp}`
/// variables, expanded at launch to the agent's view of those paths (inside the sandbox
/// `${tmp}` is `/tmp`). `$${` writes a literal `${`; any other `$` is literal text, so
/// `$HOME` reaches the agent as written (no shell expansion).
public struct EnvTemplate: Sendable, Hashable {
    /// One piece of a value: literal text or a variable.
    public enum Part: Sendable, Hashable {
        case text(String)
        case variable(PathVariable)
    }

    public var parts: [Part]

    public init(parts: [Part]) { self.parts = parts }

    /// Whether the value names at least one variable.
    public var hasVariables: Bool {
        parts.contains { if case .variable = $0 { return true } else { return false } }
    }

    /// The value with each variable replaced by `binding(variable)`.
    public func expanded(_ binding: (PathVariable) -> String) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .variable(let v): out += binding(v)
            }
        }
        return out
    }

    /// The value as written in canonical form (`$${` for a literal `${`).
    public var description: String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t.replacing("${", with: "$${")
            case .variable(let v): out += "${\(v.rawValue)}"
            }
        }
        return out
    }

    /// Parses an `env set` value. Fails on `${` without `}` (`invalid-env-value`) and on an
    /// unknown variable name (`unknown-variable`, with the closest known name).
    public static func parse(_ text: String) -> Result<EnvTemplate, ValueError> {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            literal += rest[..<dollar]
            let after = rest[dollar...]
            if after.hasPrefix("$${") {
                literal += "${"
                rest = after.dropFirst(3)
            } else if after.hasPrefix("${") {
                guard let close = after.firstIndex(of: "}") else {
                    return .failure(ValueError("invalid-env-value", "`${` without a closing `}` in `\(text)`",
                                               help: "write a variable as `${tmp}`, or `$${` for a literal `${`"))
                }
                let name = String(after[after.index(after.startIndex, offsetBy: 2)..<close])
                guard let variable = PathVariable(rawValue: name) else {
                    let help = Suggestions.closest(to: name, in: PathVariable.allCases.map(\.rawValue)).map { "did you mean `${\($0)}`? (write `$${` for a literal `${`)" }
                        ?? "the variables are ${workspace}, ${home} and ${tmp}; write `$${` for a literal `${`"
                    return .failure(ValueError("unknown-variable", "unknown variable `${\(name)}` in `env set` value", help: help))
                }
                if !literal.isEmpty { parts.append(.text(literal)); literal = "" }
                parts.append(.variable(variable))
                rest = after[after.index(after: close)...]
            } else {
                literal += "$"
                rest = after.dropFirst()
            }
        }
        literal += rest
        if !literal.isEmpty { parts.append(.text(literal)) }
        return .success(EnvTemplate(parts: parts))
    }
}
