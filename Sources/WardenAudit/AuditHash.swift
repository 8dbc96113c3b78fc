import Crypto

/// SHA-256 helpers for record hashing.
enum AuditHash {
    static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { sha256($0) }
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String { Hex.encode(sha256(bytes)) }

    static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String { Hex.encode(sha256(bytes)) }
}
