import WardenCompiler
import WardenPolicy

/// `warden diff --format json`: the stable schema documented in docs/review.md
/// (`version: 1`). Keys are always present (null when there is nothing), in a fixed order.
enum DiffFormatJSON {
    static let version = 1

    static func render(_ report: DiffReport) -> String {
        value(report).rendered() + "\n"
    }

    static func value(_ report: DiffReport) -> OrderedJSON {
        let counts = report.verdictCounts
        return .object([
            ("version", .int(version)),
            ("widens", .bool(report.widens)),
            ("summary", .object([DiffVerdict.equivalent, .narrower, .wider, .both].map { ($0.rawValue, .int(counts[$0] ?? 0)) })),
            ("files", .array(report.files.map(file))),
        ])
    }

    static func file(_ f: DiffFileResult) -> OrderedJSON {
        .object([
            ("name", .string(f.name)),
            ("old", optional(f.oldPath)),
            ("new", optional(f.newPath)),
            ("identities", .array(f.diff.identities.map { identity($0, in: f) })),
        ])
    }

    static func identity(_ i: IdentityDiff, in f: DiffFileResult) -> OrderedJSON {
        .object([
            ("identity", .string(i.identity)),
            ("status", .string(i.status.rawValue)),
            ("verdict", .string(i.verdict.rawValue)),
            ("declaration", i.declaration.map { .object([("file", .string($0.file)), ("line", .int($0.start.line)), ("column", .int($0.start.column))]) } ?? .null),
            ("widenings", .array(i.widenings.map { witness($0, identity: i, in: f) })),
            ("narrowings", .array(i.narrowings.map { witness($0, identity: i, in: f) })),
        ])
    }

    static func witness(_ w: DiffWitness, identity: IdentityDiff, in f: DiffFileResult) -> OrderedJSON {
        .object([
            ("domain", .string(w.domain.rawValue)),
            ("action", .string(w.action)),
            ("explain", f.explainCommand(identity, w).map { .array($0.map { .string($0) }) } ?? .null),
            ("old", decision(w.old)),
            ("new", decision(w.new)),
            ("note", optional(w.note)),
        ])
    }

    static func decision(_ d: Decision) -> OrderedJSON {
        .object([
            ("effect", .string(d.effect.rawValue)),
            ("mechanism", .string(d.mechanism)),
            ("note", optional(d.note)),
            ("rules", .array(d.rules.map { p in
                .object([
                    ("file", optional(p.file)),
                    ("line", p.file == nil ? .null : .int(p.line)),
                    ("column", p.file == nil ? .null : .int(p.column)),
                    ("rule", .string(p.rule)),
                    ("via", .array(p.via.map { .string($0) })),
                ])
            })),
        ])
    }

    static func optional(_ s: String?) -> OrderedJSON { s.map { .string($0) } ?? .null }
}
