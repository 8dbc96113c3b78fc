/// The byte strings that betray an injected secret in a response (a server echoing request
/// headers back: httpbin's `/headers`, a debug endpoint, TRACE on a server that allows it),
/// for a ``PlaceholderScanner`` over response heads and bodies.
public enum SecretEchoPatterns {
    /// For a secret `value` injected as a bearer token or a named header (`basicUser` nil),
    /// or inside `Authorization: Basic` credentials (`basicUser` set): the raw value; its
    /// JSON string forms when they differ (`"` and `\` escaped, and also `/` as `\/`); and for
    /// Basic the base64 credential `base64(user:value)` as sent (and with `/` as `\/`). Duplicates and empty
    /// patterns are left out.
    ///
    /// Not covered (say so where it matters): compressed responses (Content-Encoding), and
    /// other encodings of the value (base64 of a body that contains it, HTML entities).
    public static func patterns(value: [UInt8], basicUser: String? = nil) -> [[UInt8]] {
        var out: [[UInt8]] = []
        func add(_ pattern: [UInt8]) {
            if !pattern.isEmpty && !out.contains(pattern) { out.append(pattern) }
        }
        add(value)
        add(jsonEscaped(value, slash: false))
        add(jsonEscaped(value, slash: true))
        if let basicUser {
            let credential = Array(Base64.encode(Array(basicUser.utf8) + [UInt8(ascii: ":")] + value).utf8)
            add(credential)
            add(jsonEscaped(credential, slash: true))
        }
        return out
    }

    /// `value` as inside a JSON string: `"` and `\` escaped (and `/` when `slash`).
    static func jsonEscaped(_ value: [UInt8], slash: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        for byte in value {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (slash && byte == UInt8(ascii: "/")) {
                out.append(UInt8(ascii: "\\"))
            }
            out.append(byte)
        }
        return out
    }
}
