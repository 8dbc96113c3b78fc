/// A repository, branch or team pattern of a trigger: `*` matches any run of characters
/// except `/`, `**` any run including `/`, `?` one character except `/`; everything else
/// matches itself. Matching simulates the pattern as a set of states over the subject's
/// bytes (no backtracking), so it costs O(subject × pattern / 64) whatever the pattern.
public struct TriggerGlob: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case byte(UInt8)
        case one
        case star
        case globstar
    }

    /// The pattern as written.
    public let text: String
    let tokens: [Token]
    /// Compare ASCII letters without regard to case (logins, repositories, teams).
    public let caseInsensitive: Bool

    /// The longest pattern accepted, in bytes.
    public static let maxLength = 256

    public var description: String { text }

    /// Parses `text`; nil with a reason when it is not a pattern.
    public static func parse(_ text: String, caseInsensitive: Bool) -> Result<TriggerGlob, ValueError> {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else {
            return .failure(ValueError("invalid-trigger-pattern", "an empty pattern matches nothing", help: "write a name or a pattern such as \"acme/*\""))
        }
        guard bytes.count <= maxLength else {
            return .failure(ValueError("invalid-trigger-pattern", "a pattern of \(bytes.count) bytes is longer than the \(maxLength) allowed",
                                       help: "shorten it, or use `*` for the varying part"))
        }
        var tokens: [Token] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "*") {
                var run = 0
                while i < bytes.count, bytes[i] == UInt8(ascii: "*") { run += 1; i += 1 }
                guard run <= 2 else {
                    return .failure(ValueError("invalid-trigger-pattern", "`\(String(repeating: "*", count: run))` in \"\(text)\" is not a wildcard",
                                               help: "use `*` (within one path segment) or `**` (across segments)"))
                }
                tokens.append(run == 2 ? .globstar : .star)
                continue
            }
            if b == UInt8(ascii: "?") {
                tokens.append(.one)
            } else {
                tokens.append(.byte(caseInsensitive ? Self.lower(b) : b))
            }
            i += 1
        }
        return .success(TriggerGlob(text: text, tokens: tokens, caseInsensitive: caseInsensitive))
    }

    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// Whether the pattern has no wildcard.
    public var isLiteral: Bool { tokens.allSatisfy { if case .byte = $0 { return true } else { return false } } }

    /// Whether `subject` matches the whole pattern.
    public func matches(_ subject: String) -> Bool {
        let n = tokens.count
        // states[i]: the first i tokens have matched the bytes read so far.
        var states = [Bool](repeating: false, count: n + 1)
        var next = states
        states[0] = true
        close(&states)
        for raw in subject.utf8 {
            let c = caseInsensitive ? Self.lower(raw) : raw
            for i in 0...n { next[i] = false }
            var any = false
            for i in 0..<n where states[i] {
                switch tokens[i] {
                case .byte(let b):
                    if b == c { next[i + 1] = true; any = true }
                case .one:
                    if c != UInt8(ascii: "/") { next[i + 1] = true; any = true }
                case .star:
                    if c != UInt8(ascii: "/") { next[i] = true; any = true }
                case .globstar:
                    next[i] = true
                    any = true
                }
            }
            if !any { return false }
            close(&next)
            swap(&states, &next)
        }
        return states[n]
    }

    /// Follows the empty matches of `*` and `**` forward.
    private func close(_ states: inout [Bool]) {
        for i in 0..<tokens.count where states[i] {
            switch tokens[i] {
            case .star, .globstar: states[i + 1] = true
            default: break
            }
        }
    }

    /// Whether every `/`-separated part of the pattern is `*` or `**` (`*`, `*/*`, `**`):
    /// it matches every name of its shape. Lint warns about such catch-all patterns.
    public var matchesEverything: Bool {
        if tokens == [.globstar] { return true }
        var segment: [Token] = []
        var segments: [[Token]] = []
        for t in tokens {
            if t == .byte(UInt8(ascii: "/")) { segments.append(segment); segment = [] } else { segment.append(t) }
        }
        segments.append(segment)
        return segments.allSatisfy { $0 == [.star] || $0 == [.globstar] }
    }
}
