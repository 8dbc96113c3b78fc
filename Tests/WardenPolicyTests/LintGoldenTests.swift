import Foundation
import Testing
@testable import WardenPolicy

/// The policy with a dozen mistakes (Golden/lint/mistakes.warden), linted as
/// `policies/mistakes.warden`, in all four output formats.
@Suite struct LintGoldenTests {
    static func mistakes() -> LintResult {
        let text = readFile(goldenDirectory + "/lint/mistakes.warden") ?? ""
        let loader = PolicyLoader(provider: InMemorySourceProvider(["policies/mistakes.warden": text]))
        do {
            return try Linter().lint(path: "policies/mistakes.warden", loader: loader)
        } catch {
            Issue.record("\(error)")
            return LintResult(diagnostics: [], suppressed: [], sources: [:])
        }
    }

    /// Every mistake in the file, by code and line:column: nothing missing, nothing extra.
    @Test func everyMistakeIsReported() {
        let r = Self.mistakes()
        let got = r.diagnostics.map { "\($0.code)@\($0.span.start.line):\($0.span.start.column)" }
        #expect(got == [
            "include-not-found@3:9",
            "unused-permissions@12:13",
            "missing-description@16:10",
            "no-limits@16:10",
            "unknown-permission-set@17:18",
            "unprotected-git@18:30",
            "sensitive-path-readable@19:17",
            "writable-executable-path@20:24",
            "writable-system-path@20:24",
            "writable-startup-file@21:18",
            "writable-system-path@21:18",
            "shadowed-rule@23:17",
            "dangerous-grant@24:17",
            "unknown-syscall@25:17",
            "dangerous-grant@26:20",
            "unknown-capability@27:20",
            "broad-network@28:25",
            "duplicate-rule@29:17",
            "secret-env@30:18",
            "secret-env@30:32",
            "invalid-limit-value@32:16",
            "unknown-suppression@40:19",
        ])
        #expect(r.suppressed.map { "\($0.diagnostic.code)@\($0.diagnostic.span.start.line)" } == ["dangerous-grant@39"])
    }

    @Test func text() {
        let r = Self.mistakes()
        let out = DiagnosticRenderer.text(r.diagnostics, sources: r.sources)
        expectGolden(out, "lint/mistakes.text")
        // Each finding has file:line:col, the source line and a caret.
        #expect(out.components(separatedBy: "policies/mistakes.warden:").count - 1 >= r.diagnostics.count)
        #expect(out.components(separatedBy: "^").count - 1 >= r.diagnostics.count)
    }

    @Test func json() throws {
        let r = Self.mistakes()
        let out = DiagnosticRenderer.json(r.diagnostics)
        expectGolden(out, "lint/mistakes.json")
        let parsed = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]
        #expect(parsed?.count == r.diagnostics.count)
    }

    @Test func github() {
        let r = Self.mistakes()
        let out = GitHubAnnotationRenderer.render(r.diagnostics)
        expectGolden(out, "lint/mistakes.github")
        let lines = out.split(separator: "\n")
        #expect(lines.count == r.diagnostics.count)
        for l in lines {
            #expect(l.hasPrefix("::error file=policies/mistakes.warden,line=") || l.hasPrefix("::warning file=policies/mistakes.warden,line="), "\(l)")
        }
    }

    @Test func sarif() throws {
        let r = Self.mistakes()
        let out = SARIFRenderer.render(r, toolVersion: "0.1.0")
        expectGolden(out, "lint/mistakes.sarif")
        try SARIFShape.check(out, expectedResults: r.diagnostics.count + r.suppressed.count)
    }

    /// Validates against the OASIS schema with python3-jsonschema when both are available.
    @Test func sarifValidatesAgainstTheSchema() throws {
        let schema = "/work/shared/reference/sarif-schema-2.1.0.json"
        guard FileManager.default.fileExists(atPath: schema) else {
            print("skip: \(schema) not present on this machine")
            return
        }
        guard run(["python3", "-c", "import jsonschema"]).status == 0 else {
            print("skip: python3 jsonschema module not installed")
            return
        }
        let path = NSTemporaryDirectory() + "warden-lint-\(getpid()).sarif"
        try SARIFRenderer.render(Self.mistakes(), toolVersion: "0.1.0").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
            errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=str)
            for e in errors: print(list(e.path), e.message)
            sys.exit(1 if errors else 0)
            """
        let result = run(["python3", "-c", script, schema, path])
        #expect(result.status == 0, "schema violations:\n\(result.output)")
    }

    func run(_ args: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (127, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// What GitHub code scanning requires of an uploaded SARIF file, checked property by
/// property (independent of any schema validator).
enum SARIFShape {
    struct Violation: Error, CustomStringConvertible {
        var description: String
    }

    static func check(_ text: String, expectedResults: Int) throws {
        func fail(_ s: String) -> Violation { Violation(description: s) }
        guard let root = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { throw fail("root is not an object") }
        guard root["version"] as? String == "2.1.0" else { throw fail("version must be \"2.1.0\"") }
        guard root["$schema"] is String else { throw fail("$schema missing") }
        guard let runs = root["runs"] as? [[String: Any]], runs.count == 1 else { throw fail("runs must hold one run") }
        let run = runs[0]
        guard let tool = run["tool"] as? [String: Any], let driver = tool["driver"] as? [String: Any] else { throw fail("tool.driver missing") }
        guard driver["name"] as? String == "warden" else { throw fail("driver.name") }
        guard driver["informationUri"] is String, driver["version"] is String else { throw fail("driver.informationUri/version") }
        guard let rules = driver["rules"] as? [[String: Any]] else { throw fail("driver.rules missing") }
        var ids: [String] = []
        for rule in rules {
            guard let id = rule["id"] as? String, !id.isEmpty else { throw fail("rule without id") }
            ids.append(id)
            guard rule["name"] is String else { throw fail("rule \(id): name") }
            for key in ["shortDescription", "fullDescription", "help"] {
                guard let m = rule[key] as? [String: Any], m["text"] is String else { throw fail("rule \(id): \(key).text") }
            }
            guard let config = rule["defaultConfiguration"] as? [String: Any],
                  let level = config["level"] as? String, ["error", "warning", "note", "none"].contains(level) else { throw fail("rule \(id): level") }
            guard let props = rule["properties"] as? [String: Any], props["tags"] is [String] else { throw fail("rule \(id): properties.tags") }
            if let s = props["security-severity"] {
                guard let v = s as? String, let d = Double(v), (0...10).contains(d) else { throw fail("rule \(id): security-severity") }
            }
        }
        guard Set(ids).count == ids.count else { throw fail("duplicate rule ids") }
        guard let results = run["results"] as? [[String: Any]] else { throw fail("results missing") }
        guard results.count == expectedResults else { throw fail("\(results.count) results, expected \(expectedResults)") }
        for r in results {
            guard let ruleId = r["ruleId"] as? String, let index = r["ruleIndex"] as? Int else { throw fail("result without ruleId/ruleIndex") }
            guard index >= 0, index < ids.count, ids[index] == ruleId else { throw fail("ruleIndex \(index) does not point at \(ruleId)") }
            guard let level = r["level"] as? String, ["error", "warning", "note"].contains(level) else { throw fail("\(ruleId): level") }
            guard let msg = r["message"] as? [String: Any], let t = msg["text"] as? String, !t.isEmpty else { throw fail("\(ruleId): message.text") }
            guard let locations = r["locations"] as? [[String: Any]], let loc = locations.first,
                  let phys = loc["physicalLocation"] as? [String: Any],
                  let artifact = phys["artifactLocation"] as? [String: Any], let uri = artifact["uri"] as? String,
                  let region = phys["region"] as? [String: Any] else { throw fail("\(ruleId): physicalLocation") }
            guard !uri.hasPrefix("/"), artifact["uriBaseId"] as? String == "%SRCROOT%" else { throw fail("\(ruleId): uri must be relative to %SRCROOT%") }
            guard let sl = region["startLine"] as? Int, let sc = region["startColumn"] as? Int,
                  let el = region["endLine"] as? Int, let ec = region["endColumn"] as? Int,
                  sl >= 1, sc >= 1, el >= sl, ec >= 1, el > sl || ec >= sc else { throw fail("\(ruleId): region") }
            if let fp = r["partialFingerprints"] { guard fp is [String: String] else { throw fail("\(ruleId): partialFingerprints") } }
            if let sup = r["suppressions"] {
                guard let list = sup as? [[String: Any]], list.allSatisfy({ ["inSource", "external"].contains($0["kind"] as? String ?? "") })
                else { throw fail("\(ruleId): suppressions") }
            }
        }
    }
}
