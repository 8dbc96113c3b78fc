/// Low-S ECDSA signatures on P-256 (the BIP 62 / libsecp256k1 rule, applied to ES256).
///
/// For every valid signature (r, s) the pair (r, n − s) is valid too, for the same message
/// and key: a second, different token that verifies. Warden signs low-S only (s ≤ n/2,
/// normalising what the crypto library returns) and refuses high-S, so each signed token
/// has exactly one valid encoding and nobody can mint a distinct-but-valid twin of it.
enum ECDSALowS {
    /// The order n of the P-256 group, big-endian.
    static let order: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]
    /// ⌊n / 2⌋, big-endian: the largest low s.
    static let halfOrder: [UInt8] = [
        0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xDE, 0x73, 0x7D, 0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8,
    ]

    /// Whether the raw R || S signature (64 bytes) has s > ⌊n/2⌋.
    static func isHighS(_ signature: [UInt8]) -> Bool {
        precondition(signature.count == 64)
        for (a, b) in zip(signature[32...], halfOrder) where a != b { return a > b }
        return false
    }

    /// `signature` with s replaced by n − s when s is high; unchanged otherwise.
    static func normalised(_ signature: [UInt8]) -> [UInt8] {
        guard isHighS(signature) else { return signature }
        return Array(signature[..<32]) + negated(Array(signature[32...]))
    }

    /// n − s for a 32-byte big-endian s in [1, n − 1].
    static func negated(_ s: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for i in stride(from: 31, through: 0, by: -1) {
            var d = Int(order[i]) - Int(s[i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            out[i] = UInt8(d)
        }
        return out
    }
}
