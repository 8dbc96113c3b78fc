/// The message a checkpoint signs, shaped like a C2SP tlog-checkpoint note body:
///
/// ```
/// warden-audit/<log id: 64 hex>     origin: the log's identity
/// <seq>                             tree size: records 0..seq-1 precede the checkpoint
/// <base64 of the head hash>         SHA-256 of record seq-1's line (the checkpoint's prev)
/// ts <checkpoint ts>                extension lines: bind the checkpoint record's own
/// run <checkpoint run id>           remaining header values
/// version 2                         only for a version 2 (RFC 8785) checkpoint record
/// ```
/// Every line ends with `\n`. The log id is the SHA-256 of the log's first record line
/// (the record whose prev is the genesis value). Version 1 checkpoints sign the first five
/// lines only (as Warden did before version 2); from version 2 on the record's version is
/// signed too, so a checkpoint's format marker cannot be changed without breaking its
/// signature even at the end of the log, where no later record's `prev` covers it.
enum CheckpointNote {
    static func origin(logID: String) -> String { "warden-audit/\(logID)" }

    static func body(origin: String, seq: Int64, headHex: String, ts: String, run: String, version: Int64) -> [UInt8]? {
        guard let head = Hex.decode(headHex), head.count == 32 else { return nil }
        var text = "\(origin)\n\(seq)\n\(Base64.encode(head))\nts \(ts)\nrun \(run)\n"
        if version >= 2 { text += "version \(version)\n" }
        return Array(text.utf8)
    }

    /// Field names of a checkpoint record.
    static let keyField = "key"
    static let logField = "log"
    static let sigField = "sig"
}
