/// Placeholders inside one header value: written plainly, or inside the base64 credentials of
/// `Authorization: Basic …` (how git and other tools send a token they were given as a
/// password), where a plain byte search cannot see them.
public enum HeaderPlaceholders {
    /// Indices of the tokens found in `value`, plainly or inside Basic credentials.
    public static func find(_ tokens: [[UInt8]], inHeaderValue value: String) -> [Int] {
        let plain = Array(value.utf8)
        let decoded = basicCredentials(value)
        return tokens.indices.filter { index in
            let token = tokens[index]
            return !token.isEmpty && (contains(plain, token) || decoded.map { contains($0, token) } == true)
        }
    }

    /// `value` with every occurrence of `tokens[i]` replaced by `values[i]`, plainly and
    /// inside Basic credentials (re-encoded). Tokens and values must pair up.
    public static func replacing(_ tokens: [[UInt8]], with values: [[UInt8]], inHeaderValue value: String) -> String {
        precondition(tokens.count == values.count, "each placeholder needs its value")
        if let decoded = basicCredentials(value) {
            let replaced = replaceAll(decoded, tokens, values)
            if replaced != decoded {
                let scheme = value.utf8.prefix(while: { $0 != HTTPSyntax.space })
                return String(decoding: scheme, as: UTF8.self) + " " + Base64.encode(replaced)
            }
        }
        return String(decoding: replaceAll(Array(value.utf8), tokens, values), as: UTF8.self)
    }

    /// The decoded credentials of a `Basic` value (scheme case-insensitive, one space, strict base64).
    static func basicCredentials(_ value: String) -> [UInt8]? {
        let bytes = Array(value.utf8)
        guard bytes.count > 6, HTTPSyntax.lowercasedASCII(String(decoding: bytes[0..<5], as: UTF8.self)) == "basic",
              bytes[5] == HTTPSyntax.space
        else { return nil }
        return Base64.decode(bytes[6...])
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        PlaceholderScanner.firstMatch(of: [needle], in: haystack) != nil
    }

    static func replaceAll(_ bytes: [UInt8], _ tokens: [[UInt8]], _ values: [[UInt8]]) -> [UInt8] {
        let kept = tokens.indices.filter { !tokens[$0].isEmpty }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        outer: while index < bytes.count {
            for which in kept {
                let token = tokens[which]
                if index + token.count <= bytes.count, bytes[index..<(index + token.count)].elementsEqual(token) {
                    out += values[which]
                    index += token.count
                    continue outer
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }
}

/// Standard base64 (RFC 4648 section 4), strict: the standard alphabet only, padding optional
/// but correct when present, no whitespace, no non-zero trailing bits.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            let b0 = Int(bytes[index])
            let b1 = count > 1 ? Int(bytes[index + 1]) : 0
            let b2 = count > 2 ? Int(bytes[index + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[(b0 & 3) << 4 | b1 >> 4])
            out.append(count > 1 ? alphabet[(b1 & 15) << 2 | b2 >> 6] : UInt8(ascii: "="))
            out.append(count > 2 ? alphabet[b2 & 63] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var symbols = text
        var padding = 0
        while symbols.last == UInt8(ascii: "=") {
            symbols = symbols.dropLast()
            padding += 1
        }
        guard padding <= 2, padding == 0 || (symbols.count + padding) % 4 == 0, symbols.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(symbols.count * 3 / 4)
        var accumulator = 0
        var bits = 0
        for symbol in symbols {
            guard let value = sextet(symbol) else { return nil }
            accumulator = (accumulator << 6 | value) & 0xFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((accumulator >> bits) & 0xFF))
            }
        }
        guard accumulator & ((1 << bits) - 1) == 0 else { return nil }
        return out
    }

    static func sextet(_ symbol: UInt8) -> Int? {
        switch symbol {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return Int(symbol - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return Int(symbol - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(symbol - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
