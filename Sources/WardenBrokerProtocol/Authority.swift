/// `host[:port]` as written in a Host header or an absolute-form target: a DNS name
/// (letters, digits, `-`, `_`, dots between non-empty labels, no trailing dot), an IPv4
/// address, or an IPv6 literal in brackets (no zone); a port of 1-65535 when present.
public enum Authority {
    /// The host (lowercased; IPv6 keeps its brackets) and the port, or nil when invalid.
    public static func parse(_ text: String) -> (host: String, port: UInt16?)? {
        parse(Array(text.utf8)[...])
    }

    static func parse(_ bytes: ArraySlice<UInt8>) -> (host: String, port: UInt16?)? {
        guard !bytes.isEmpty else { return nil }
        var hostBytes: ArraySlice<UInt8>
        var portBytes: ArraySlice<UInt8>?
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            hostBytes = bytes[bytes.startIndex...close]
            let rest = bytes[(close + 1)...]
            if !rest.isEmpty {
                guard rest.first == HTTPSyntax.colon else { return nil }
                portBytes = rest.dropFirst()
            }
            guard isIPv6Literal(hostBytes.dropFirst().dropLast()) else { return nil }
        } else {
            let colons = bytes.filter { $0 == HTTPSyntax.colon }.count
            guard colons <= 1 else { return nil }
            if let colon = bytes.firstIndex(of: HTTPSyntax.colon) {
                hostBytes = bytes[bytes.startIndex..<colon]
                portBytes = bytes[(colon + 1)...]
            } else {
                hostBytes = bytes
            }
            guard isDNSNameOrIPv4(hostBytes) else { return nil }
        }
        var port: UInt16?
        if let portBytes {
            guard let value = parsePort(portBytes) else { return nil }
            port = value
        }
        return (HTTPSyntax.lowercasedASCII(String(decoding: hostBytes, as: UTF8.self)), port)
    }

    static func parsePort(_ bytes: ArraySlice<UInt8>) -> UInt16? {
        guard !bytes.isEmpty, bytes.count <= 5, bytes.allSatisfy(HTTPSyntax.isDigit) else { return nil }
        let value = bytes.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard value >= 1, value <= 65535 else { return nil }
        return UInt16(value)
    }

    static func isDNSNameOrIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        var labelLength = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard labelLength > 0 else { return false }
                labelLength = 0
                continue
            }
            let ok = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || HTTPSyntax.isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            guard ok else { return false }
            labelLength += 1
            guard labelLength <= 63 else { return false }
        }
        return labelLength > 0
    }

    static func isIPv6Literal(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 2, bytes.count <= 45, bytes.contains(HTTPSyntax.colon) else { return false }
        return bytes.allSatisfy { HTTPSyntax.hexValue($0) != nil || $0 == HTTPSyntax.colon || $0 == UInt8(ascii: ".") }
    }
}
