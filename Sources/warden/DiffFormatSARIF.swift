import WardenCompiler
import WardenPolicy

/// `warden diff --format sarif`: SARIF 2.1.0, one result per widening, at the new
/// version's allowing rule (or the identity's declaration when the rule is built-in or
/// there is none); `ruleId` is `widening/<domain>`. Narrowings are not results (they
/// need no review to be safe).
enum DiffFormatSARIF {
    static let schemaURI = SARIFRenderer.schemaURI

    static func render(_ report: DiffReport, root: String?) -> String {
        value(report, root: root).rendered() + "\n"
    }

    static func ruleID(_ d: DiffDomain) -> String { "widening/\(d.rawValue)" }

    static func value(_ report: DiffReport, root: String?) -> OrderedJSON {
        let domains = DiffDomain.allCases
        let rules: [OrderedJSON] = domains.map { d in
            let text = "A change lets an identity do something in the \(d.rawValue) domain that it could not do before."
            return .object([
                ("id", .string(ruleID(d))),
                ("name", .string("Widening" + d.rawValue.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined())),
                ("shortDescription", .object([("text", .string("Policy widening (\(d.rawValue))"))])),
                ("fullDescription", .object([("text", .string(text))])),
                ("helpUri", .string(SARIFRuleMetadata.wideningURI)),
                ("help", .object([("text", .string(text + " Review it, and run the witness's `warden explain` command to see the deciding rules; see docs/review.md."))])),
                ("defaultConfiguration", .object([("level", .string("warning"))])),
                ("properties", .object([("tags", .array([.string("security"), .string("policy-review")])),
                                        ("security-severity", .string(SARIFRuleMetadata.securitySeverity[ruleID(d)] ?? "5.0"))])),
            ])
        }
        var results: [OrderedJSON] = []
        for file in report.files {
            for identity in file.diff.identities {
                for w in identity.widenings {
                    results.append(result(w, identity: identity, file: file, ruleIndex: domains.firstIndex(of: w.domain) ?? 0, root: root))
                }
            }
        }
        let driver: OrderedJSON = .object([
            ("name", .string("warden")),
            ("informationUri", .string(SARIFRenderer.informationURI)),
            ("version", .string(WardenVersion.string)),
            ("semanticVersion", .string(WardenVersion.string)),
            ("rules", .array(rules)),
        ])
        return .object([
            ("$schema", .string(schemaURI)),
            ("version", .string("2.1.0")),
            ("runs", .array([.object([
                ("tool", .object([("driver", driver)])),
                ("columnKind", .string("unicodeCodePoints")),
                ("results", .array(results)),
            ])])),
        ])
    }

    /// Where a widening is reported: the first allowing rule with a file, else the identity.
    static func place(_ w: DiffWitness, identity: IdentityDiff, file: DiffFileResult) -> (file: String, line: Int, column: Int) {
        if let p = w.new.rules.first(where: { $0.file != nil }), let f = p.file { return (f, max(1, p.line), max(1, p.column)) }
        if let d = identity.declaration { return (d.file, d.start.line, d.start.column) }
        return (file.newPath ?? file.name, 1, 1)
    }

    static func message(_ w: DiffWitness, identity: IdentityDiff, file: DiffFileResult) -> String {
        var text = "identity \(identity.identity) may now: \(w.action). Now \(DiffWords.decision(w.new, past: false)); before: \(DiffWords.decision(w.old))."
        if let argv = file.explainCommand(identity, w) { text += " Witness: `\(DiffWords.shellCommand(argv))`." }
        if let note = w.note { text += " Note: \(note)." }
        return text
    }

    static func result(_ w: DiffWitness, identity: IdentityDiff, file: DiffFileResult, ruleIndex: Int, root: String?) -> OrderedJSON {
        let at = place(w, identity: identity, file: file)
        let (uri, relative) = artifactURI(at.file, root: root)
        var artifact: [(String, OrderedJSON)] = [("uri", .string(uri))]
        if relative { artifact.append(("uriBaseId", .string("%SRCROOT%"))) }
        return .object([
            ("ruleId", .string(ruleID(w.domain))),
            ("ruleIndex", .int(ruleIndex)),
            ("level", .string("warning")),
            ("message", .object([("text", .string(message(w, identity: identity, file: file)))])),
            ("locations", .array([.object([("physicalLocation", .object([
                ("artifactLocation", .object(artifact)),
                ("region", .object([("startLine", .int(at.line)), ("startColumn", .int(at.column))])),
            ]))])])),
            ("partialFingerprints", .object([
                ("wardenWidening/v1", .string(fnv1a("\(w.domain.rawValue)\u{0}\(identity.identity)\u{0}\(w.action)"))),
            ])),
            ("properties", .object([
                ("identity", .string(identity.identity)),
                ("action", .string(w.action)),
            ])),
        ])
    }

    /// A URI reference for `path`: relative to `root` (with `%SRCROOT%`) when possible.
    static func artifactURI(_ path: String, root: String?) -> (String, Bool) {
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
    static func percentEncode(_ s: String) -> String {
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
    static func fnv1a(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
