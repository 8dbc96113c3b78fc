import WardenPolicy
/// An LSP position: 0-based line, and 0-based character counted in UTF-16 code units.
public struct LSPPosition: Sendable, Hashable, Comparable {
    public var line: Int
    public var character: Int

    public init(line: Int, character: Int) {
        self.line = line
        self.character = character
    }

    public static func < (a: LSPPosition, b: LSPPosition) -> Bool {
        (a.line, a.character) < (b.line, b.character)
    }

    var json: JSON { .object([("line", .int(Int64(line))), ("character", .int(Int64(character)))]) }

    init?(_ json: JSON?) {
        guard let json, let line = json["line"]?.intValue, let character = json["character"]?.intValue,
              line >= 0, character >= 0, line <= Int64(Int32.max), character <= Int64(Int32.max) else { return nil }
        self.init(line: Int(line), character: Int(character))
    }
}

/// A half-open LSP range.
public struct LSPRange: Sendable, Hashable {
    public var start: LSPPosition
    public var end: LSPPosition

    public init(start: LSPPosition, end: LSPPosition) {
        self.start = start
        self.end = end
    }

    var json: JSON { .object([("start", start.json), ("end", end.json)]) }
}

/// Converts between UTF-8 byte offsets (what Warden's spans hold) and LSP positions
/// (0-based lines, UTF-16 code units) for one text. Lines end at `\n` (a `\r` before it
/// belongs to the line, as in Warden's own line index).
public struct LineMap: Sendable {
    public let bytes: [UInt8]
    /// Byte offset of the first byte of each line.
    public let lineStarts: [Int]

    public init(_ text: String) {
        bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == 0x0A { starts.append(i + 1) }
        lineStarts = starts
    }

    /// The byte range of 0-based `line` without its `\n` (and without a `\r` before it).
    func lineBytes(_ line: Int) -> Range<Int> {
        let start = lineStarts[line]
        var end = line + 1 < lineStarts.count ? lineStarts[line + 1] - 1 : bytes.count
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        return start..<end
    }

    /// The position of byte `offset` (clamped into the text). An offset inside a
    /// multi-byte character counts as that character's start.
    public func position(of offset: Int) -> LSPPosition {
        let offset = max(0, min(offset, bytes.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        var units = 0
        var i = lineStarts[lo]
        while i < offset {
            let (length, utf16) = Self.scalarWidth(bytes[i])
            if i + length > offset { break }
            units += utf16
            i += length
        }
        return LSPPosition(line: lo, character: units)
    }

    /// The byte offset of `position`: a line past the end is the end of the text, a
    /// character past the end of its line is the line's end, and a character inside a
    /// surrogate pair is the start of that pair's scalar.
    public func offset(of position: LSPPosition) -> Int {
        guard position.line < lineStarts.count else { return bytes.count }
        let range = lineBytes(position.line)
        var units = 0
        var i = range.lowerBound
        while i < range.upperBound {
            let (length, utf16) = Self.scalarWidth(bytes[i])
            if units + utf16 > position.character { break }
            units += utf16
            i = min(i + length, range.upperBound)
        }
        return i
    }

    /// The range covering bytes `start..<end`.
    public func range(_ start: Int, _ end: Int) -> LSPRange {
        LSPRange(start: position(of: start), end: position(of: max(start, end)))
    }

    /// The range of the whole text.
    public var whole: LSPRange { range(0, bytes.count) }

    /// UTF-8 length and UTF-16 length of the scalar starting with `lead` (a stray
    /// continuation byte counts as one of each; Swift strings never hold one).
    static func scalarWidth(_ lead: UInt8) -> (Int, Int) {
        switch lead {
        case 0xF0...0xF7: return (4, 2)
        case 0xE0...0xEF: return (3, 1)
        case 0xC0...0xDF: return (2, 1)
        default: return (1, 1)
        }
    }
}

/// `file://` URIs ⇄ paths.
public enum DocumentURI {
    /// The path of a `file://` URI (percent-decoded); other URIs (`untitled:...`) are kept
    /// whole, so they still name a distinct document.
    public static func path(_ uri: String) -> String {
        guard uri.hasPrefix("file://") else { return uri }
        var rest = Substring(uri.dropFirst("file://".count))
        // `file://host/path`: keep only the path (the host is empty or localhost).
        if !rest.hasPrefix("/"), let slash = rest.firstIndex(of: "/") { rest = rest[slash...] }
        return percentDecode(String(rest))
    }

    /// A `file://` URI for an absolute `path` (a relative one is made absolute against `/`).
    public static func uri(_ path: String) -> String {
        if path.contains(":"), !path.hasPrefix("/") { return path }  // an untitled: document kept whole
        return "file://" + (path.hasPrefix("/") ? "" : "/") + SARIFRenderer.percentEncode(path)
    }

    static func percentDecode(_ s: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h * 16 + l)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
