import WardenPolicy

/// The identity's file with a proposal inserted before the identity's closing `}`, and a
/// unified diff of the change. Pure text: nothing is written.
public struct PolicyPatch: Sendable, Equatable {
    /// The patched file.
    public var text: String
    /// 1-based lines of the patched text that hold the inserted block.
    public var insertedLines: ClosedRange<Int>
    /// The original file's lines, and where (0-based, before which original line) the block goes.
    var originalLines: [String]
    var insertAt: Int
    var block: [String]

    /// Inserts `block` before the closing `}` of `identity` (declared in `text`). When the
    /// `}` shares its line with other text, the block goes on lines of its own before it.
    public init(text original: String, identity: IdentityDecl, block: [String]) {
        var bytes = Array(original.utf8)
        var close = min(identity.span.end.offset, bytes.count) - 1
        while close >= 0, bytes[close] != UInt8(ascii: "}") { close -= 1 }
        close = max(0, close)
        var lineStart = close
        while lineStart > 0, bytes[lineStart - 1] != UInt8(ascii: "\n") { lineStart -= 1 }
        if !bytes[lineStart..<close].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            // `... }` on one line: break the line before the `}`.
            bytes.insert(UInt8(ascii: "\n"), at: close)
            lineStart = close + 1
        }
        let head = String(decoding: bytes[..<lineStart], as: UTF8.self)
        let tail = String(decoding: bytes[lineStart...], as: UTF8.self)
        let blockText = block.map { $0 + "\n" }.joined()
        text = head + blockText + tail
        let firstLine = head.utf8.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        insertedLines = firstLine...(firstLine + max(block.count, 1) - 1)
        originalLines = Self.lines(String(decoding: bytes, as: UTF8.self))
        insertAt = firstLine - 1
        self.block = block
        // A `}` moved to its own line changed an original line: diff against the true original.
        if bytes.count != original.utf8.count { originalLines = Self.lines(original); splitLine = insertAt - 1 } else { splitLine = nil }
    }

    /// The original line (0-based) that was split before its `}`, if any.
    var splitLine: Int?

    static func lines(_ text: String) -> [String] {
        var out = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if out.last == "" { out.removeLast() }
        return out
    }

    /// A unified diff (3 lines of context) from `oldName` to `newName`.
    public func unifiedDiff(oldName: String, newName: String) -> String {
        let newLines = Self.lines(text)
        // The change: original lines [from, to) become new lines [from, from + count).
        let from = splitLine ?? insertAt
        let removed = splitLine == nil ? 0 : 1
        let added = newLines.count - originalLines.count + removed
        let ctxStart = max(0, from - 3)
        let ctxEndOld = min(originalLines.count, from + removed + 3)
        let oldCount = ctxEndOld - ctxStart
        let newCount = oldCount - removed + added
        var out = "--- \(oldName)\n+++ \(newName)\n"
        out += "@@ -\(oldCount == 0 ? ctxStart : ctxStart + 1),\(oldCount) +\(newCount == 0 ? ctxStart : ctxStart + 1),\(newCount) @@\n"
        for i in ctxStart..<from { out += " " + originalLines[i] + "\n" }
        for i in from..<(from + removed) { out += "-" + originalLines[i] + "\n" }
        for i in from..<(from + added) { out += "+" + newLines[i] + "\n" }
        for i in (from + removed)..<ctxEndOld { out += " " + originalLines[i] + "\n" }
        return out
    }
}
