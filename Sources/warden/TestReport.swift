import WardenCompiler
import WardenPolicy

/// The outcome of `warden test` for one policy file.
struct TestFileReport {
    /// As given (`<stdin>` for `-`).
    var path: String
    var results: [ExpectationResult]
    /// Why the file's tests could not run (I/O, policy errors), or nil.
    var error: String?
}

/// Counts over every file of one `warden test`.
struct TestTotals {
    var passed = 0
    var failed = 0
    /// Files whose tests could not run.
    var broken = 0
    var files = 0

    init(_ reports: [TestFileReport]) {
        files = reports.count
        for r in reports {
            if r.error != nil { broken += 1 }
            for e in r.results { if e.passed { passed += 1 } else { failed += 1 } }
        }
    }
}

/// `warden test --format json|junit`: machine-readable reports. Text is raw policy text
/// (the formats quote and escape it themselves).
enum TestReportFormat {
    /// One JSON document: `{files: [{path, error, expectations: [...]}], totals}`.
    static func json(_ reports: [TestFileReport], totals: TestTotals) -> String {
        OrderedJSON.object([
            ("files", .array(reports.map { r in
                .object([
                    ("path", .string(r.path)),
                    ("error", r.error.map { .string($0) } ?? .null),
                    ("expectations", .array(r.results.map(expectation))),
                ])
            })),
            ("totals", .object([
                ("files", .int(totals.files)),
                ("passed", .int(totals.passed)),
                ("failed", .int(totals.failed)),
                ("broken", .int(totals.broken)),
            ])),
        ]).rendered()
    }

    private static func expectation(_ r: ExpectationResult) -> OrderedJSON {
        let span = r.expectation.span
        return .object([
            ("test", .string(r.test)),
            ("identity", r.identity.isEmpty ? .null : .string(r.identity)),
            ("expectation", .string(expectationText(r))),
            ("file", .string(span.file)),
            ("line", .int(span.start.line)),
            ("column", .int(span.start.column)),
            ("passed", .bool(r.passed)),
            ("actual", decision(r.decision)),
        ])
    }

    /// A decision as JSON: effect, deciding rules with file:line, mechanism, note.
    static func decision(_ d: Decision) -> OrderedJSON {
        .object([
            ("decision", .string(d.effect.rawValue)),
            ("rules", .array(d.rules.map { p in
                .object([
                    ("rule", .string(p.rule)),
                    ("file", p.file.map { .string($0) } ?? .null),
                    ("line", .int(p.line)),
                    ("column", .int(p.column)),
                    ("location", .string(p.location)),
                    ("via", .array(p.via.map { .string($0) })),
                    ("because", p.because.map { .string($0) } ?? .null),
                ])
            })),
            ("mechanism", .string(d.mechanism)),
            ("note", d.note.map { .string($0) } ?? .null),
            ("condition", d.condition.map { .string($0) } ?? .null),
        ])
    }

    static func expectationText(_ r: ExpectationResult) -> String {
        "expect \(r.expectation.effect.rawValue) \(ExplainFormat.action(r.expectation.action, escape: { $0 }))"
    }

    /// JUnit XML: `<testsuites>`, a `<testsuite>` per file, a `<testcase>` per expectation
    /// (a `<failure>` when it failed); a file whose tests could not run has one `<error>`.
    static func junit(_ reports: [TestFileReport], totals: TestTotals) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"warden test\" tests=\"\(totals.passed + totals.failed + totals.broken)\" failures=\"\(totals.failed)\" errors=\"\(totals.broken)\">\n"
        for r in reports {
            let failures = r.results.filter { !$0.passed }.count
            let tests = r.results.count + (r.error == nil ? 0 : 1)
            out += "  <testsuite name=\"\(XMLText.escape(r.path))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(r.error == nil ? 0 : 1)\">\n"
            if let error = r.error {
                out += "    <testcase classname=\"\(XMLText.escape(r.path))\" name=\"load\">\n"
                out += "      <error message=\"\(XMLText.escape(error))\" type=\"policy\"/>\n"
                out += "    </testcase>\n"
            }
            for e in r.results {
                let span = e.expectation.span
                out += "    <testcase classname=\"\(XMLText.escape(e.test))\" name=\"\(XMLText.escape(expectationText(e)))\" file=\"\(XMLText.escape(span.file))\" line=\"\(span.start.line)\""
                if e.passed { out += "/>\n"; continue }
                out += ">\n"
                let message = "expected \(e.expectation.effect.rawValue), but it is \(e.decision.effect == .allow ? "allowed" : "denied")"
                let details = ExplainFormat.reasons(e.decision).joined(separator: "\n")
                out += "      <failure message=\"\(XMLText.escape(message))\" type=\"expectation\">\(XMLText.escape("\(span.file):\(span.start.line):\(span.start.column): \(message)\n\(details)"))</failure>\n"
                out += "    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }
}

/// Escaping for XML 1.0 text and attribute values. Characters XML 1.0 cannot carry at all
/// (C0 controls but tab/LF/CR, U+FFFE, U+FFFF) become a visible `\u{XX}`.
enum XMLText {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF || (0x7F...0x9F).contains(v) {
                    out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
