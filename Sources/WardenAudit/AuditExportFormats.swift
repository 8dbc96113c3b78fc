/// Line formats of `warden audit export`.
public enum AuditExportLine {
    /// `{"hash":H,"record":<the stored line, byte for byte>,"sequence":N}`: the record as
    /// stored (so its hash can be recomputed from `record`'s exact bytes as written in the log:
    /// the canonical serialisation of `record`) plus its chain position and hash.
    public static func jsonl(_ rec: AuditRecord, hash: String) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"hash":"#.utf8)
        CanonicalJSON.appendString(hash, to: &out)
        out.append(contentsOf: #","record":"#.utf8)
        out.append(contentsOf: rec.lineBytes())
        out.append(contentsOf: #","sequence":"#.utf8)
        CanonicalJSON.appendInt(rec.seq, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The OCSF event as one line of canonical JSON.
    public static func ocsf(_ event: AuditValue) -> [UInt8] { CanonicalJSON.serialize(event) }
}
