import WardenPolicy

/// Where a compiled decision comes from: a rule in a policy file, or a built-in safeguard.
public struct Provenance: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `file:line:col` of the rule item, or nil for a built-in.
    public var file: String?
    public var line: Int
    public var column: Int
    /// The `use` chain that brought the rule into the identity (set names, outermost first).
    public var via: [String]
    /// The rule's `because` text, or a built-in's reason.
    public var because: String?
    /// A short label for the rule (`allow fs read "/usr"`, `built-in: clone3 → ENOSYS`).
    public var rule: String

    public init(file: String?, line: Int, column: Int, via: [String], because: String?, rule: String) {
        self.file = file
        self.line = line
        self.column = column
        self.via = via
        self.because = because
        self.rule = rule
    }

    /// A decision Warden adds to every identity.
    public static func builtin(_ rule: String, because: String) -> Provenance {
        Provenance(file: nil, line: 0, column: 0, via: [], because: because, rule: rule)
    }

    /// The provenance of a flattened policy rule.
    init(_ rule: EffectiveRule, label: String) {
        self.init(file: rule.span.file, line: rule.span.start.line, column: rule.span.start.column,
                  via: rule.via.map(\.setName), because: rule.because, rule: label)
    }

    /// `file:line:col`, or `built-in`.
    public var location: String {
        guard let file else { return "built-in" }
        return "\(file):\(line):\(column)"
    }

    public var description: String {
        var s = "\(location): \(rule)"
        if !via.isEmpty { s += " (via \(via.joined(separator: " → ")))" }
        return s
    }
}
