/// SHA-256 for callers outside the audit library (policy and plan fingerprints).
public enum Digest {
    /// Lower-case hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: [UInt8]) -> String { AuditHash.sha256Hex(bytes) }
}
