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
        let (uri, relative) = SARIFRenderer.artifactURI(at.file, root: root)
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
                ("wardenWidening/v1", .string(SARIFRenderer.fnv1a("\(w.domain.rawValue)\u{0}\(identity.identity)\u{0}\(w.action)"))),
            ])),
            ("properties", .object([
                ("identity", .string(identity.identity)),
                ("action", .string(w.action)),
            ])),
        ])
    }
}
