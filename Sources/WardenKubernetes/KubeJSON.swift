import WardenAudit

/// The API server's JSON answers, read with Warden's strict parser (integers only, no
/// duplicate keys, bounded depth) after dropping the blanks between tokens that a
/// pretty-printing server or proxy may add (the parser takes compact JSON only).
enum KubeJSON {
    static func parse(_ bytes: [UInt8]) -> AuditValue? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var inString = false, escaped = false
        for b in bytes {
            if inString {
                out.append(b)
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { continue }
            if b == 0x22 { inString = true }
            out.append(b)
        }
        guard case .success(let v) = AuditValue.parseJSON(out) else { return nil }
        return v
    }
}
