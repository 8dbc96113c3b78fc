/// Percent-decoding for searches (placeholders hidden in a URL as `%77dn_ph_…`).
public enum PercentDecoding {
    /// Decodes every `%HH`; a `%` not followed by two hex digits is kept as written.
    public static func decodedLeniently(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// Decodes again and again (at most `maxRounds` times) until nothing changes, so a
    /// placeholder encoded twice (`%2577dn_ph_…`) is found too.
    public static func decodedRepeatedly(_ text: String, maxRounds: Int = 4) -> [UInt8] {
        var current = Array(text.utf8)
        for _ in 0..<maxRounds {
            let next = decodedLeniently(String(decoding: current, as: UTF8.self))
            if next == current { break }
            current = next
        }
        return current
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
