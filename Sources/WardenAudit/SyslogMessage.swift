/// Formats records as RFC 5424 syslog messages.
///
/// `<PRI>1 TIMESTAMP HOSTNAME warden PROCID MSGID [warden@32473 run="…" identity="…" seq="…" hash="…"] BOM MSG`
/// PRI uses facility 13 (log audit); severity 4 (warning) for denials and refusals, 5
/// (notice) for the writer's own repair records, 6 (informational) otherwise. TIMESTAMP is
/// the record's `ts`, MSGID its kind (first 32 bytes), MSG the exported JSON line.
/// 32473 is the enterprise number RFC 5612 reserves for documentation.
public enum SyslogMessage {
    public static let facility = 13
    public static let sdID = "warden@32473"
    /// Longest message sent; a longer MSG is replaced by a stub naming the record's hash.
    public static let maxBytes = 60 * 1024

    /// Syslog severity of a record kind.
    public static func severity(_ kind: String) -> Int {
        if kind.hasPrefix("deny.") || kind == AuditKind.httpRefused || kind == AuditKind.httpExfiltration { return 4 }
        if AuditKind.reserved.contains(kind) && kind != AuditKind.checkpoint || kind.hasPrefix("recovery") { return 5 }
        return 6
    }

    /// The message for `rec`; `msg` is the JSON line to carry.
    public static func format(
        _ rec: AuditRecord, hash: String, identity: String?, msg: [UInt8], hostname: String, procID: Int32
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: "<\(facility * 8 + severity(rec.kind))>1 \(rec.ts) ".utf8)
        out.append(contentsOf: headerField(hostname, max: 255))
        out.append(contentsOf: " warden \(procID) ".utf8)
        out.append(contentsOf: headerField(rec.kind, max: 32))
        out.append(contentsOf: " [\(sdID) run=\"".utf8)
        out.append(contentsOf: paramValue(rec.run))
        if let identity {
            out.append(contentsOf: "\" identity=\"".utf8)
            out.append(contentsOf: paramValue(identity))
        }
        out.append(contentsOf: "\" seq=\"\(rec.seq)\" hash=\"\(hash)\"] ".utf8)
        out.append(contentsOf: [0xEF, 0xBB, 0xBF])  // BOM: MSG is UTF-8
        let room = maxBytes - out.count
        out.append(contentsOf: msg.count <= room ? msg : truncatedStub(rec, hash: hash, bytes: msg.count))
        return out
    }

    /// Replaces a MSG too long for one datagram.
    static func truncatedStub(_ rec: AuditRecord, hash: String, bytes: Int) -> [UInt8] {
        CanonicalJSON.serialize(["truncated": true, "bytes": .int(Int64(bytes)), "hash": .string(hash), "sequence": .int(rec.seq)])
    }

    /// A header field: printable US-ASCII only (other bytes become `_`), `-` when empty.
    static func headerField(_ s: String, max: Int) -> [UInt8] {
        let b = s.utf8.prefix(max).map { $0 >= 33 && $0 <= 126 ? $0 : UInt8(ascii: "_") }
        return b.isEmpty ? [UInt8(ascii: "-")] : b
    }

    /// A PARAM-VALUE (RFC 5424 §6.3.3): `"`, `\` and `]` escaped with a backslash; control
    /// characters (never valid in a value meant for one line) written as `\u00XX`, which
    /// cannot be confused with text because a literal backslash is always doubled.
    static func paramValue(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
                out.append(UInt8(ascii: "\\"))
                out.append(b)
            case 0..<0x20, 0x7F:
                out.append(contentsOf: "\\u00".utf8)
                out.append(contentsOf: Hex.encode([b]).utf8)
            default: out.append(b)
            }
        }
        return out
    }
}

/// Formats records for journald's native protocol: `KEY=value\n` per field, or, for values
/// that contain a newline, `KEY\n` + the value's length as 64-bit little endian + the value
/// + `\n` (binary safe).
public enum JournalMessage {
    public static let maxBytes = 60 * 1024

    public static func format(_ rec: AuditRecord, hash: String, identity: String?, msg: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        let body = msg.count <= maxBytes - 1024 ? msg : SyslogMessage.truncatedStub(rec, hash: hash, bytes: msg.count)
        field("MESSAGE", body, &out)
        field("PRIORITY", Array(String(SyslogMessage.severity(rec.kind)).utf8), &out)
        field("SYSLOG_FACILITY", Array(String(SyslogMessage.facility).utf8), &out)
        field("SYSLOG_IDENTIFIER", Array("warden".utf8), &out)
        field("WARDEN_KIND", Array(rec.kind.utf8), &out)
        field("WARDEN_RUN", Array(rec.run.utf8), &out)
        if let identity { field("WARDEN_IDENTITY", Array(identity.utf8), &out) }
        field("WARDEN_SEQ", Array(String(rec.seq).utf8), &out)
        field("WARDEN_HASH", Array(hash.utf8), &out)
        return out
    }

    static func field(_ name: String, _ value: [UInt8], _ out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        if value.contains(0x0A) {
            out.append(0x0A)
            var n = UInt64(value.count).littleEndian
            withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
            out.append(contentsOf: value)
        } else {
            out.append(UInt8(ascii: "="))
            out.append(contentsOf: value)
        }
        out.append(0x0A)
    }
}
