/// What crashed writers can leave after the last good record, and nothing else.
///
/// A writer appends one batch with a single `write`. A crash (power loss, SIGKILL) can
/// persist any prefix of that batch, so the bytes after the last complete record are:
/// - one unterminated piece of a record line (it starts like a record, `{"fields":{`, or is
///   a prefix of that; trailing NUL bytes a filesystem may leave are allowed), or
/// - that, then the next writer's own crash: it started a new line (`\n`) when the bytes it
///   found did not end in one and was writing the `recovery` record that covers them, so
///   after the newline comes a prefix of exactly that recovery record (same offset, length,
///   SHA-256 and prev). Each further crash at the same place adds one such piece.
///
/// Anything else after the last good record — complete lines that are not records, text,
/// `\r`, several edited records — is tampering, never a torn write.
enum TornWrite {
    /// How every record line starts (its first key is `fields`).
    static let recordStart: [UInt8] = Array(#"{"fields":{"#.utf8)
    /// Most pieces (crashes at the same point) accepted before calling the bytes tampering.
    static let maxPieces = 8

    /// True when `region` is what crashed writers leave after a good record that ends at file
    /// offset `offset` with hash `prevHex` (lowercase hex).
    static func isCrashResidue(_ region: ArraySlice<UInt8>, offset: Int64, prevHex: [UInt8]) -> Bool {
        isResidue(region, offset: offset, prevHex: prevHex, depth: 0)
    }

    private static func isResidue(_ r: ArraySlice<UInt8>, offset: Int64, prevHex: [UInt8], depth: Int) -> Bool {
        guard let nl = r.lastIndex(of: UInt8(ascii: "\n")) else { return isFragment(r) }
        guard depth < maxPieces else { return false }
        let piece = r[(nl + 1)...]
        let before = r[..<nl]
        // The writer that wrote `\n` + piece found `before` (not ending in a newline) and
        // covered it, or found `before` + `\n` and covered that (no separator needed).
        guard let last = before.last, last != UInt8(ascii: "\n"),
            isResidue(before, offset: offset, prevHex: prevHex, depth: depth + 1)
        else { return false }
        if piece.isEmpty { return true }
        return isRecoveryPrefix(piece, covering: before, offset: offset, prevHex: prevHex)
            || isRecoveryPrefix(piece, covering: r[..<(nl + 1)], offset: offset, prevHex: prevHex)
    }

    /// An unterminated piece of a record line, possibly followed by NUL bytes.
    static func isFragment(_ f: ArraySlice<UInt8>) -> Bool {
        let end = f.firstIndex(of: 0) ?? f.endIndex
        guard f[end...].allSatisfy({ $0 == 0 }) else { return false }
        let text = f[..<end]
        let n = min(text.count, recordStart.count)
        return text.prefix(n).elementsEqual(recordStart.prefix(n))
    }

    /// The start of the `recovery` record a writer appends for `covered` at `offset`, up to
    /// and including `"run":"` (what follows, run id, seq and ts, is not known here).
    static func recoveryPrefix(covering covered: ArraySlice<UInt8>, offset: Int64, prevHex: [UInt8]) -> [UInt8] {
        let rec = AuditRecord(
            seq: 0, ts: "", kind: AuditKind.recovery, run: "",
            fields: [
                "offset": .int(offset), "length": .int(Int64(covered.count)),
                "sha256": .string(covered.withUnsafeBytes { AuditHash.sha256Hex($0) }),
            ],
            prev: String(decoding: prevHex, as: UTF8.self))
        let line = rec.lineBytes()
        let marker = Array(#","run":""#.utf8)
        var i = 0
        while i + marker.count <= line.count {
            if line[i..<(i + marker.count)].elementsEqual(marker) { return Array(line[..<(i + marker.count)]) }
            i += 1
        }
        return line
    }

    private static func isRecoveryPrefix(
        _ piece: ArraySlice<UInt8>, covering covered: ArraySlice<UInt8>, offset: Int64, prevHex: [UInt8]
    ) -> Bool {
        // Cheap check before hashing: the length field comes first.
        let head = Array(#"{"fields":{"length":\#(covered.count),"offset":\#(offset),"sha256":""#.utf8)
        let n = min(piece.count, head.count)
        guard piece.prefix(n).elementsEqual(head.prefix(n)) else { return false }
        if piece.count <= head.count { return true }
        let expected = recoveryPrefix(covering: covered, offset: offset, prevHex: prevHex)
        let m = min(piece.count, expected.count)
        return piece.prefix(m).elementsEqual(expected.prefix(m))
    }
}
