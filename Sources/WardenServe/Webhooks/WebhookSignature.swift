import Crypto

/// HMAC-SHA256 signatures as webhook senders write them (`sha256=<64 lowercase hex>`) and
/// the constant-time comparisons that check them.
public enum WebhookSignature {
    /// HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// `sha256=` followed by the lowercase hex of `mac` (what a sender puts in its header).
    public static func header(_ mac: [UInt8]) -> String { "sha256=" + hex(mac) }

    /// The 32 bytes a `sha256=<64 lowercase hex>` header carries, or nil when it has any
    /// other shape (missing or uppercase prefix, wrong length, uppercase or non-hex digits).
    public static func parse(_ header: String) -> [UInt8]? {
        let b = Array(header.utf8)
        let prefix = Array("sha256=".utf8)
        guard b.count == prefix.count + 64, b.starts(with: prefix) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var i = prefix.count
        while i < b.count {
            guard let hi = nibble(b[i]), let lo = nibble(b[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// Whether `a` and `b` are equal, in time that depends only on their lengths (every
    /// byte is compared, no early exit).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// Whether the token `given` equals `expected`, in time independent of where they differ
    /// and of `expected`'s length: both are hashed, and the digests compared in constant time.
    /// (A prefix of the real token, or the token with bytes appended, does not match.)
    public static func tokenEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        let g = Array(SHA256.hash(data: given)), e = Array(SHA256.hash(data: expected))
        return constantTimeEqual(g, e) && given.count == expected.count
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
