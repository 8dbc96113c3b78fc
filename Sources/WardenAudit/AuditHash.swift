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

    static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: sha256HexBytes(bytes), as: UTF8.self)
    }

    /// The digest as 64 lowercase hex ASCII bytes (the verifier's hot path).
    static func sha256HexBytes(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let digest = SHA256.hash(data: bytes)
        return [UInt8](unsafeUninitializedCapacity: 64) { out, count in
            digest.withUnsafeBytes { d in
                let table: StaticString = "0123456789abcdef"
                let t = table.utf8Start
                for k in 0..<32 {
                    let b = d[k]
                    out[2 * k] = t[Int(b >> 4)]
                    out[2 * k + 1] = t[Int(b & 0xF)]
                }
            }
            count = 64
        }
    }
}
