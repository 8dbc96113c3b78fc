/// Standard base64 (RFC 4648, with padding); decoding is strict and canonical.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0xF) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        var i = 0
        func val(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): return 62
            case UInt8(ascii: "/"): return 63
            default: return nil
            }
        }
        while i < u.count {
            let last = i + 4 == u.count
            let pad = last ? (u[i + 3] == UInt8(ascii: "=") ? (u[i + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            guard let a = val(u[i]), let b = val(u[i + 1]) else { return nil }
            let c = pad >= 2 ? 0 : val(u[i + 2])
            let d = pad >= 1 ? 0 : val(u[i + 3])
            guard let c, let d else { return nil }
            out.append(a << 2 | b >> 4)
            if pad < 2 { out.append((b & 0xF) << 4 | c >> 2) } else if b & 0xF != 0 { return nil }
            if pad < 1 { out.append((c & 3) << 6 | d) } else if pad == 1 && c & 3 != 0 { return nil }
            i += 4
        }
        return out
    }
}
