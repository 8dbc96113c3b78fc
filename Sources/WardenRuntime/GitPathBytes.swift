/// Paths as raw bytes: lexical resolution (no link is ever followed) and a display form that
/// is safe to print on a terminal and to store in an audit record.
enum GitPathBytes {
    static let slash = UInt8(ascii: "/")
    static let dot = UInt8(ascii: ".")

    /// `a` and `b` joined with one `/` (either may be empty).
    static func join(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        return a + [slash] + b
    }

    /// The components of `path`, without empty ones.
    static func components(_ path: [UInt8]) -> [[UInt8]] {
        path.split(separator: slash).map(Array.init)
    }

    /// `target` resolved against the absolute directory `base` the way a string would be, never
    /// consulting the file system: `.` dropped, `..` removes one component (never above `/`).
    /// Returns absolute components.
    static func resolve(_ target: [UInt8], from base: [[UInt8]]) -> [[UInt8]] {
        var out: [[UInt8]] = target.first == slash ? [] : base
        for component in components(target) {
            if component == [dot] { continue }
            if component == [dot, dot] { if !out.isEmpty { out.removeLast() }; continue }
            out.append(component)
        }
        return out
    }

    /// Whether `path` is `ancestor` or inside it (component-wise).
    static func isInside(_ path: [[UInt8]], _ ancestor: [[UInt8]]) -> Bool {
        path.count >= ancestor.count && Array(path.prefix(ancestor.count)) == ancestor
    }

    /// Whether the relative path `path` lies strictly inside `ancestor` (`a/b` is below `a`, `ab` is not).
    static func isBelow(_ path: [UInt8], _ ancestor: [UInt8]) -> Bool {
        if ancestor.isEmpty { return !path.isEmpty }  // the workspace root (a bare layout there)
        return path.count > ancestor.count && path.starts(with: ancestor) && path[ancestor.count] == slash
    }

    /// `components` as an absolute path.
    static func absolute(_ components: [[UInt8]]) -> [UInt8] {
        components.isEmpty ? [slash] : components.flatMap { [slash] + $0 }
    }

    /// `bytes` as printable text: valid UTF-8 that is neither a control nor a format character
    /// (bidi overrides, zero-width characters) is kept; `\` is doubled; `\n`, `\r`, `\t` are
    /// written so; every other byte is `\xNN`. Distinct inputs give distinct outputs.
    static func display(_ bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\\"): out += "\\\\"; i += 1; continue
            case 0x0A: out += "\\n"; i += 1; continue
            case 0x0D: out += "\\r"; i += 1; continue
            case 0x09: out += "\\t"; i += 1; continue
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(b)); i += 1; continue
            default: break
            }
            if b >= 0x80, let (scalar, length) = decodeScalar(bytes, at: i), isPrintable(scalar) {
                out.unicodeScalars.append(scalar)
                i += length
                continue
            }
            out += "\\x" + String(b >> 4, radix: 16) + String(b & 0xF, radix: 16)
            i += 1
        }
        return out
    }

    /// Display form of a path relative to the workspace (`.` for the workspace itself).
    static func displayRelative(_ path: [UInt8]) -> String { path.isEmpty ? "." : display(path) }

    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: return false
        default: return true
        }
    }

    /// One UTF-8 scalar starting at `i`, or nil when the bytes there are not valid UTF-8.
    private static func decodeScalar(_ bytes: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[i]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return nil
        }
        guard i + length <= bytes.count else { return nil }
        var decoder = UTF8()
        var iterator = bytes[i..<(i + length)].makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return nil }
        // The decoder must have consumed exactly `length` bytes (no overlong or short form).
        guard String(scalar).utf8.count == length else { return nil }
        return (scalar, length)
    }
}
