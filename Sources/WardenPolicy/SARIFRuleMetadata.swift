/// What SARIF consumers (GitHub code scanning) learn about each rule beyond its text: the
/// documentation link (`helpUri`) and the `security-severity` score GitHub ranks alerts by.
/// The one table of both for `warden lint` and `warden diff`; docs/lint.md documents it.
public enum SARIFRuleMetadata {
    /// Where the documentation is published; every `helpUri` starts here.
    public static let docsBaseURL = "https://github.com/warden-policy/warden/blob/main/docs/"

    /// GitHub's `security-severity` per rule id, a number 0.0–10.0 written as a string:
    /// over 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, under 4.0 low. Lint rule ids, and
    /// `widening/<domain>` for `warden diff`. A rule missing here has no score.
    public static let securitySeverity: [String: String] = [
        // Critical: a secret reaches the agent or anyone.
        "sensitive-path-readable": "9.0",
        "secret-env": "9.0",
        "secret-env-pass": "9.0",
        // High: code that runs later outside the sandbox, kernel attack surface, leaks.
        "secret-wildcard-host": "8.5",
        "dangerous-grant": "8.0",
        "writable-executable-path": "8.0",
        "secret-cleartext": "8.0",
        "trigger-without-secret": "8.0",
        "trigger-open-to-anyone": "7.0",
        "unprotected-git": "7.5",
        "writable-startup-file": "7.5",
        "writable-system-path": "7.0",
        // Medium: exfiltration and exhaustion.
        "broad-network": "6.0",
        "trigger-any-repository": "6.0",
        "no-limits": "4.0",
        // Low: hygiene that hides mistakes, and a fleet's share of the server.
        "trigger-fleet-unbounded": "3.5",
        "secret-unbound": "3.0",
        "shadowed-rule": "3.0",
        "unknown-suppression": "2.0",
        "duplicate-rule": "1.0",
        "unused-permissions": "1.0",
        "missing-description": "1.0",
        // `warden diff`: a widening, by what it now allows.
        "widening/secret": "9.0",
        "widening/capability": "8.0",
        "widening/git-push": "7.5",
        "widening/syscall": "7.0",
        "widening/filesystem": "7.0",
        "widening/identity": "7.0",
        "widening/network": "6.5",
        "widening/http": "6.5",
        "widening/environment": "5.0",
        "widening/limit": "4.0",
        "widening/cache": "4.0",
        "widening/trigger": "7.0",
    ]

    /// The documentation of a lint rule: its heading in docs/lint.md.
    public static func lintRuleURI(_ id: String) -> String { docsBaseURL + "lint.md#" + id }

    /// The documentation of the checker's diagnostic codes.
    public static let checkerURI = docsBaseURL + "language.md#diagnostics"

    /// The documentation of `warden diff`'s widening domains.
    public static let wideningURI = docsBaseURL + "review.md#domains"
}
