import Foundation
import Testing
@testable import WardenPolicy

/// The one table of SARIF help links and security severities, against the rules, the
/// SARIF output and docs/lint.md.
@Suite struct SARIFRuleMetadataTests {
    static let lintDoc: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3)
        return (try? String(contentsOfFile: parts.joined(separator: "/") + "/docs/lint.md", encoding: .utf8)) ?? ""
    }()

    @Test func everyLintRuleHasAScoreInRange() throws {
        for rule in LintRules.catalog {
            let score = try #require(SARIFRuleMetadata.securitySeverity[rule.id].flatMap(Double.init), "\(rule.id)")
            #expect((0.0...10.0).contains(score), "\(rule.id)")
            // Security rules rank at least medium; hygiene-only rules stay low.
            if rule.tags.contains("security") && !rule.tags.contains("hygiene") { #expect(score >= 4.0, "\(rule.id)") }
            if !rule.tags.contains("security") { #expect(score < 4.0 || rule.id == "no-limits" || rule.id == "broad-network", "\(rule.id)") }
        }
        // A secret within the agent's reach is critical.
        #expect(SARIFRuleMetadata.securitySeverity["sensitive-path-readable"] == "9.0")
        #expect(SARIFRuleMetadata.securitySeverity["secret-env"] == "9.0")
        #expect(SARIFRuleMetadata.securitySeverity["widening/secret"] == "9.0")
    }

    @Test func scoresAreGitHubStyleStrings() {
        for (id, score) in SARIFRuleMetadata.securitySeverity {
            #expect(score.wholeMatch(of: /[0-9]+\.[0-9]/) != nil, "\(id): \(score)")
        }
    }

    @Test func sarifRulesCarryHelpURIAndTheTablesScore() throws {
        let sarif = SARIFRenderer.render(LintResult(diagnostics: [], suppressed: [], sources: [:]), toolVersion: "0")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(sarif.utf8)) as? [String: Any])
        let run = try #require((doc["runs"] as? [[String: Any]])?.first)
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.count == LintRules.catalog.count)
        for rule in rules {
            let id = try #require(rule["id"] as? String)
            #expect(rule["helpUri"] as? String == SARIFRuleMetadata.docsBaseURL + "lint.md#" + id)
            let props = try #require(rule["properties"] as? [String: Any])
            #expect(props["security-severity"] as? String == SARIFRuleMetadata.securitySeverity[id], "\(id)")
        }
    }

    /// Each helpUri anchor exists: docs/lint.md has a `#### \`id\`` heading per rule (GitHub
    /// makes the anchor `id` of it), and its severity table agrees with the code.
    @Test func docsHaveAnAnchorPerRuleAndTheSameTable() {
        #expect(!Self.lintDoc.isEmpty)
        for rule in LintRules.catalog {
            #expect(Self.lintDoc.contains("\n#### `\(rule.id)`\n"), "docs/lint.md has no heading for \(rule.id)")
        }
        for (id, score) in SARIFRuleMetadata.securitySeverity {
            let row = Self.lintDoc.split(separator: "\n").first { $0.hasPrefix("| ") && $0.contains("`\(id)`") && $0.contains("| \(score) |") }
            #expect(row != nil, "docs/lint.md's severity table lacks \(id) = \(score)")
        }
    }
}
