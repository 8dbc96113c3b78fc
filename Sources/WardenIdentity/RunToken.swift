/// ES256 JSON Web Tokens (RFC 7519, JWS compact serialization RFC 7515) for run identity.
///
/// Header: `{"alg":"ES256","kid":KID,"typ":"JWT"}`. Signature: ECDSA P-256 / SHA-256 over
/// the ASCII `BASE64URL(header).BASE64URL(payload)`, as raw R || S (64 bytes), with s ≤ n/2
/// (low-S): each token has one valid signature encoding, and the high-S twin is refused.
public enum RunToken {
    /// Tokens longer than this are refused before any parsing.
    public static let maxLength = 16 * 1024

    /// The signed compact token for `claims`.
    public static func sign(_ claims: RunTokenClaims, with key: IssuerSigningKey) throws(IdentityError) -> String {
        var header = JSONObjectWriter()
        header.string("alg", "ES256")
        header.string("kid", key.publicKey.keyID)
        header.string("typ", "JWT")
        let input = Base64URL.encode(header.json) + "." + Base64URL.encode(claims.json)
        let signature = try key.sign(Array(input.utf8))
        return input + "." + Base64URL.encode(signature)
    }

    /// A token that passed `verify`.
    public struct Verified: Sendable {
        /// The key that signed it.
        public var keyID: String
        public var claims: RunTokenClaims
        /// The payload exactly as signed (compact JSON, UTF-8).
        public var payload: String
    }

    /// Verifies `token` against `keys` (a JWKS's keys) at `now` (seconds since the epoch).
    ///
    /// Checks, in order: shape (three base64url parts), header (`alg` exactly ES256, a
    /// `kid` naming one of `keys`, `typ` JWT when present, no `crit`), the signature (64 bytes,
    /// low-S, valid for the key), then the claims (`nbf` and `iat` not in the future and `exp`
    /// not passed, each allowing `leeway` seconds of clock skew; `iss` and `aud` equal to the
    /// expected ones when given).
    public static func verify(_ token: String, keys: [IssuerPublicKey], now: Int64, leeway: Int64 = 60,
                              issuer: String? = nil, audience: String? = nil) throws(IdentityError) -> Verified {
        var text = Substring(token)
        while let last = text.last, last == "\n" || last == "\r" { text = text.dropLast() }
        guard text.utf8.count <= maxLength else { throw .invalidToken("longer than \(maxLength) bytes") }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .invalidToken("not three dot-separated parts (JWS compact form)") }
        guard let headerBytes = Base64URL.decode(parts[0]) else { throw .invalidToken("the header is not base64url") }
        guard let payloadBytes = Base64URL.decode(parts[1]) else { throw .invalidToken("the payload is not base64url") }
        guard let signature = Base64URL.decode(parts[2]) else { throw .invalidToken("the signature is not base64url") }

        let header: JSONValue
        do { header = try JSONValue.parse(headerBytes, maxDepth: 2) } catch { throw .invalidToken("header: \(error)") }
        guard case .object = header else { throw .invalidToken("the header is not a JSON object") }
        guard header["alg"]?.stringValue == "ES256" else { throw .invalidToken("alg is not ES256") }
        if let typ = header["typ"], typ.stringValue != "JWT" { throw .invalidToken("typ is not JWT") }
        guard header["crit"] == nil else { throw .invalidToken("the header has crit extensions, which Warden does not understand") }
        guard let kid = header["kid"]?.stringValue else { throw .invalidToken("the header has no kid") }
        guard let key = keys.first(where: { $0.keyID == kid }) else { throw .invalidToken("no key with kid \(kid) in the key set") }
        guard signature.count == 64 else { throw .invalidToken("the signature is not 64 bytes (raw R || S)") }
        guard !ECDSALowS.isHighS(signature) else {
            throw .invalidToken("the signature is high-S (s > n/2), the malleable twin of a valid one; Warden signs low-S only")
        }
        let signed = Array(text.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard key.isValidSignature(signature, for: signed) else { throw .invalidToken("bad signature") }

        let payload: JSONValue
        do { payload = try JSONValue.parse(payloadBytes, maxDepth: 4) } catch { throw .invalidToken("payload: \(error)") }
        let claims = try RunTokenClaims(payload)
        guard claims.notBefore <= now + leeway else { throw .invalidToken("not valid before \(claims.notBefore) (nbf)") }
        guard claims.issuedAt <= now + leeway else { throw .invalidToken("issued in the future (iat \(claims.issuedAt))") }
        guard claims.expiresAt > now - leeway else { throw .invalidToken("expired at \(claims.expiresAt) (exp)") }
        if let issuer, claims.issuer != issuer { throw .invalidToken("issuer is not \(issuer)") }
        if let audience, claims.audience != audience { throw .invalidToken("audience is not \(audience)") }
        return Verified(keyID: kid, claims: claims, payload: String(decoding: payloadBytes, as: UTF8.self))
    }
}
