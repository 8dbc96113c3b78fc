/// One `# warden:ignore rule-id[, rule-id] [-- reason]` comment.
///
/// A comment alone on its line suppresses the named rules on the next line that holds
/// code (further comment-only lines in between are skipped, so suppressions can stack);
/// a comment after code on the same line suppresses them on that line. Only lint rule
/// ids can be suppressed: checker errors cannot.
public struct Suppression: Sendable, Hashable {
    public var ruleIDs: [Located<String>]
    /// The whole comment.
    public var span: SourceSpan
    /// The 1-based line whose diagnostics it suppresses (nil: no code follows).
    public var targetLine: Int?
    /// The text after `--`, if any.
    public var reason: String?

    static let marker = "warden:ignore"

    /// Every suppression comment in `file`.
    public static func scan(_ file: SourceFile) -> [Suppression] {
        let tokens = Lexer.tokenize(file).tokens
        var result: [Suppression] = []
        // Line of each code token, to find "the next line with code".
        var codeLines: [Int] = []
        var lastCodeLine = 0
        for t in tokens where t.kind != .newline && t.kind != .comment && t.kind != .eof {
            let line = file.location(at: t.start).line
            if line != lastCodeLine { codeLines.append(line); lastCodeLine = line }
        }
        for t in tokens where t.kind == .comment {
            guard let s = parse(t, file) else { continue }
            var s2 = s
            let line = s.span.start.line
            // codeLines is ascending: the first code line at or after this one, by bisection.
            var lo = 0, hi = codeLines.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if codeLines[mid] < line { lo = mid + 1 } else { hi = mid }
            }
            s2.targetLine = lo < codeLines.count ? codeLines[lo] : nil
            result.append(s2)
        }
        return result
    }

    /// Parses one comment token (nil when it is not a suppression).
    static func parse(_ t: Token, _ file: SourceFile) -> Suppression? {
        let bytes = Array(t.text.utf8)
        var i = 1  // after `#`
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
        let m = Array(marker.utf8)
        guard bytes.count >= i + m.count, Array(bytes[i..<(i + m.count)]) == m else { return nil }
        i += m.count
        guard i == bytes.count || bytes[i] == 0x20 || bytes[i] == 0x09 else { return nil }
        var ids: [Located<String>] = []
        var reason: String?
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == UInt8(ascii: ",") { i += 1; continue }
            if b == UInt8(ascii: "-"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "-") {
                reason = String(decoding: bytes[(i + 2)...], as: UTF8.self).trimmingSpaces()
                break
            }
            let start = i
            while i < bytes.count, bytes[i] != 0x20, bytes[i] != 0x09, bytes[i] != UInt8(ascii: ",") { i += 1 }
            let id = String(decoding: bytes[start..<i], as: UTF8.self)
            ids.append(Located(id, file.span(t.start + start, t.start + i)))
        }
        return Suppression(ruleIDs: ids, span: file.span(t.start, t.end), targetLine: nil, reason: reason)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

/// A diagnostic that a `# warden:ignore` comment suppressed.
public struct SuppressedDiagnostic: Sendable, Hashable {
    public var diagnostic: Diagnostic
    public var suppression: Suppression
}
