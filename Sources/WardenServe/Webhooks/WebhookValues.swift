import WardenKernel
import WardenRuntime

/// The shapes of the values a delivery carries: what a genuine forge sends, and nothing a
/// path, a command line, a glob or a terminal could read differently.
enum WebhookValues {
    /// A delivery id (dedupe key): 1-128 of `A-Z a-z 0-9 . _ : -`.
    static func isDeliveryID(_ s: String) -> Bool {
        (1...128).contains(s.utf8.count) && s.utf8.allSatisfy { isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x3A || $0 == 0x2D }
    }

    /// An event name or action: 1-64 of `a-z 0-9 _`.
    static func isEventName(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count) && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// One segment of a repository path: 1-255 of `A-Z a-z 0-9 . _ -`, not `.` or `..`.
    static func isPathSegment(_ s: Substring) -> Bool {
        (1...255).contains(s.utf8.count) && s != "." && s != ".."
            && s.utf8.allSatisfy { isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    /// A GitHub repository: `owner/name`.
    static func isGitHubRepository(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        return s.utf8.count <= 256 && parts.count == 2 && parts.allSatisfy(isPathSegment)
    }

    /// A GitLab project's full path: `group[/subgroup...]/project`, at most 20 levels and 512 bytes.
    static func isGitLabRepository(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        return s.utf8.count <= 512 && (2...21).contains(parts.count) && parts.allSatisfy(isPathSegment)
    }

    /// A login: 1-255 of `A-Z a-z 0-9 . _ -`, optionally followed by `[bot]` (GitHub apps).
    static func isLogin(_ s: String) -> Bool {
        var b = Substring(s)
        if b.hasSuffix("[bot]") { b = b.dropLast(5) }
        return (1...255).contains(b.utf8.count) && b.utf8.allSatisfy { isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    /// A commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
    static func isCommit(_ s: String) -> Bool {
        GitObjectID.isValid(s)
    }

    /// The all-zero id a forge sends for a branch that was created or deleted.
    static func isZeroCommit(_ s: String) -> Bool { s.utf8.allSatisfy { $0 == 0x30 } }

    /// A branch name git accepts (`git check-ref-format --branch`), at most 255 bytes, that
    /// cannot be read as an option: no controls or invisible characters, no blank, `~ ^ : ? * [ \`,
    /// no `..` or `@{`, not `@`, no empty component, no component starting with `.` or ending
    /// in `.lock`, not ending in `.`, not starting with `-`.
    static func isBranch(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard (1...255).contains(b.count), s != "@", b.first != 0x2D, b.last != 0x2E else { return false }
        for u in s.unicodeScalars {
            if u.value <= 0x20 || u.value == 0x7F || TerminalText.isInvisibleOrControl(u.value) { return false }
            if "~^:?*[\\".unicodeScalars.contains(u) { return false }
        }
        guard !s.contains(".."), !s.contains("@{") else { return false }
        for component in s.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component.hasPrefix(".") || component.hasSuffix(".lock") { return false }
        }
        return true
    }

    static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
}
