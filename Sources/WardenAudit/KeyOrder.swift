/// RFC 8785's order of object keys: by their UTF-16 code units, compared as unsigned numbers.
enum KeyOrder {
    /// True when `a` sorts before `b` by UTF-16 code units.
    ///
    /// Works on the UTF-8 bytes (native Swift strings hold UTF-8): UTF-8 byte order is code
    /// point order, and UTF-16 order differs from it only where the first differing
    /// characters are one in U+E000–U+FFFF (lead byte 0xEE or 0xEF) and one above U+FFFF
    /// (lead byte 0xF0–0xF4, a surrogate pair in UTF-16, whose 0xD800–0xDBFF sorts first).
    /// At the first differing byte both strings are at the same position of a character:
    /// either both at its lead byte, or inside characters with the same lead byte (then of
    /// one length class, where both orders agree).
    static func utf16Precedes(_ a: String, _ b: String) -> Bool {
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            guard let x = ia.next() else { return ib.next() != nil }
            guard let y = ib.next() else { return false }
            if x == y { continue }
            if x >= 0xEE && y >= 0xEE && (x >= 0xF0) != (y >= 0xF0) { return x > y }
            return x < y
        }
    }
}
