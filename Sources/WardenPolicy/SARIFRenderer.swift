/// Renders lint results as SARIF 2.1.0, the format GitHub code scanning ingests.
///
/// One run; `tool.driver.rules` declares every lint rule plus each checker code that
/// appears in the results; results carry `ruleId` and `ruleIndex`, a level, the message
/// (with its help line), a physical location relative to `%SRCROOT%`, related locations
/// for notes, a stable `partialFingerprints` entry, and `suppressions` for findings
/// silenced by `# warden:ignore`. Columns count Unicode code points (`columnKind`).
public enum SARIFRenderer {
    public static let schemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    public static let informationURI = "https://github.com/warden-policy/warden"

    /// `root`: the directory that relative URIs are relative to (normally the current
    /// directory); absolute paths under it are made relative, others become `file://` URIs.
    public static func render(_ result: LintResult, toolVersion: String, root: String? = nil) -> String {
        sarif(result, toolVersion: toolVersion, root: root).rendered() + "\n"
    }

    public static func sarif(_ result: LintResult, toolVersion: String, root: String? = nil) -> OrderedJSON {
        // Rules: every lint rule, then checker codes in order of first appearance.
        var rules: [OrderedJSON] = []
        var index: [String: Int] = [:]
        for entry in LintRules.catalog {
            index[entry.id] = rules.count
            rules.append(rule(id: entry.id, severity: entry.severity, rationale: entry.rationale, tags: entry.tags, suppressible: true))
        }
        let all = result.diagnostics.map { ($0, nil as Suppression?) } + result.suppressed.map { ($0.diagnostic, $0.suppression as Suppression?) }
        let checkerCodes = Dictionary(DiagnosticCodes.all.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        for (d, _) in all where index[d.code] == nil {
            index[d.code] = rules.count
            let known = checkerCodes[d.code]
            rules.append(rule(id: d.code, severity: known?.severity ?? d.severity,
                              rationale: known?.summary ?? "The policy checker reports `\(d.code)`.",
                              tags: ["correctness"], suppressible: false))
        }
        let results: [OrderedJSON] = all.map { d, s in resultValue(d, ruleIndex: index[d.code] ?? 0, suppression: s, root: root, sources: result.sources) }
        let driver: OrderedJSON = .object([
            ("name", .string("warden")),
            ("informationUri", .string(informationURI)),
            ("version", .string(toolVersion)),
            ("semanticVersion", .string(toolVersion)),
            ("rules", .array(rules)),
        ])
        let run: OrderedJSON = .object([
            ("tool", .object([("driver", driver)])),
            ("columnKind", .string("unicodeCodePoints")),
            ("results", .array(results)),
        ])
        return .object([
            ("$schema", .string(schemaURI)),
            ("version", .string("2.1.0")),
            ("runs", .array([run])),
        ])
    }

    static func level(_ s: Severity) -> String {
        switch s { case .error: return "error"; case .warning: return "warning"; case .note: return "note" }
    }

    /// `dangerous-grant` → `DangerousGrant` (SARIF `name` is a readable identifier).
    static func pascalCase(_ id: String) -> String {
        id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func rule(id: String, severity: Severity, rationale: String, tags: [String], suppressible: Bool) -> OrderedJSON {
        var properties: [(String, OrderedJSON)] = [("tags", .array(tags.map { .string($0) }))]
        if let score = SARIFRuleMetadata.securitySeverity[id] {
            // GitHub ranks security alerts by this score (0.0-10.0, as a string).
            properties.append(("security-severity", .string(score)))
        }
        let help = suppressible
            ? "\(rationale) See docs/lint.md#\(id); suppress one finding with `# warden:ignore \(id)` on the line before."
            : "\(rationale) The policy must be fixed: checker errors cannot be suppressed."
        return .object([
            ("id", .string(id)),
            ("name", .string(pascalCase(id))),
            ("shortDescription", .object([("text", .string(rationale))])),
            ("fullDescription", .object([("text", .string(rationale))])),
            ("helpUri", .string(suppressible ? SARIFRuleMetadata.lintRuleURI(id) : SARIFRuleMetadata.checkerURI)),
            ("help", .object([("text", .string(help)), ("markdown", .string(help))])),
            ("defaultConfiguration", .object([("level", .string(level(severity)))])),
            ("properties", .object(properties)),
        ])
    }

    static func location(_ span: SourceSpan, root: String?) -> OrderedJSON {
        var artifact: [(String, OrderedJSON)] = []
        let (uri, relative) = artifactURI(span.file, root: root)
        artifact.append(("uri", .string(uri)))
        if relative { artifact.append(("uriBaseId", .string("%SRCROOT%"))) }
        return .object([
            ("artifactLocation", .object(artifact)),
            ("region", .object([
                ("startLine", .int(span.start.line)),
                ("startColumn", .int(span.start.column)),
                ("endLine", .int(span.end.line)),
                ("endColumn", .int(span.end.column)),
            ])),
        ])
    }

    static func resultValue(_ d: Diagnostic, ruleIndex: Int, suppression: Suppression?, root: String?,
                            sources: [String: SourceFile]) -> OrderedJSON {
        var text = d.message
        if let help = d.help { text += ". Help: " + help }
        var fields: [(String, OrderedJSON)] = [
            ("ruleId", .string(d.code)),
            ("ruleIndex", .int(ruleIndex)),
            ("level", .string(level(d.severity))),
            ("message", .object([("text", .string(text))])),
            ("locations", .array([.object([("physicalLocation", location(d.span, root: root))])])),
        ]
        if !d.notes.isEmpty {
            fields.append(("relatedLocations", .array(d.notes.enumerated().map { i, n in
                .object([
                    ("id", .int(i + 1)),
                    ("physicalLocation", location(n.span, root: root)),
                    ("message", .object([("text", .string(n.message))])),
                ])
            })))
        }
        // Stable across line moves: rule, file, the trimmed source line and the message.
        // (At most the first 4 KiB of the line: hashing a huge line once per finding would be quadratic.)
        let line = sources[d.span.file]?.lineText(d.span.start.line, maxBytes: 4096).trimmingSpaces() ?? ""
        fields.append(("partialFingerprints", .object([
            ("wardenFinding/v1", .string(fnv1a("\(d.code)\u{0}\(d.span.file)\u{0}\(line)\u{0}\(d.message)"))),
        ])))
        if let s = suppression {
            var sup: [(String, OrderedJSON)] = [("kind", .string("inSource"))]
            if let reason = s.reason, !reason.isEmpty { sup.append(("justification", .string(reason))) }
            sup.append(("location", .object([("physicalLocation", location(s.span, root: root))])))
            fields.append(("suppressions", .array([.object(sup)])))
        }
        return .object(fields)
    }

    /// A URI reference for `path`: relative (with `%SRCROOT%`) when possible.
    public static func artifactURI(_ path: String, root: String?) -> (String, Bool) {
        var p = path
        if p.hasPrefix("/") {
            guard let root, !root.isEmpty else { return ("file://" + percentEncode(p), false) }
            let base = root.hasSuffix("/") ? root : root + "/"
            guard p.hasPrefix(base) else { return ("file://" + percentEncode(p), false) }
            p = String(p.dropFirst(base.count))
        }
        while p.hasPrefix("./") { p = String(p.dropFirst(2)) }
        return (percentEncode(p), true)
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters and `/`.
    public static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = String(b, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    /// 64-bit FNV-1a as 16 hex digits (a fingerprint, not a security hash).
    public static func fnv1a(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
