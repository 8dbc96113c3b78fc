/// The public documents a relying party (a cloud's workload identity federation, a
/// service) needs to trust run tokens: the JWKS and the OpenID discovery document.
public enum IssuerDocuments {
    /// `{"keys":[JWK,...]}`, current key first.
    public static func jwks(_ keys: [IssuerPublicKey]) -> String {
        "{\"keys\":[" + keys.map(\.jwk).joined(separator: ",") + "]}"
    }

    /// Reads a JWKS document's keys (every key must be an EC P-256 signing key).
    public static func keys(fromJWKS bytes: [UInt8]) throws(IdentityError) -> [IssuerPublicKey] {
        let doc = try JSONValue.parse(bytes, maxDepth: 4)
        guard case .array(let items)? = doc["keys"] else { throw .invalidJSON("a JWKS needs a \"keys\" array") }
        var keys: [IssuerPublicKey] = []
        for item in items { keys.append(try IssuerPublicKey(jwk: item)) }
        return keys
    }

    /// The issuer URL without trailing slashes (OpenID Connect Discovery §4: the
    /// configuration lives at ISSUER + `/.well-known/openid-configuration`).
    static func trimmed(_ issuer: String) -> String {
        var s = Substring(issuer)
        while s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }

    /// The OpenID Provider configuration for `issuer`, its JWKS at `jwksURI` (default
    /// ISSUER/.well-known/jwks.json). Only what a token verifier needs: Warden issues tokens
    /// to runs; it has no authorization or token endpoint.
    public static func discovery(issuer: String, jwksURI: String? = nil) -> String {
        var w = JSONObjectWriter()
        w.string("issuer", issuer)
        w.string("jwks_uri", jwksURI ?? trimmed(issuer) + "/.well-known/jwks.json")
        w.strings("response_types_supported", ["id_token"])
        w.strings("subject_types_supported", ["public"])
        w.strings("id_token_signing_alg_values_supported", ["ES256"])
        w.strings("claims_supported", ["iss", "sub", "aud", "run", "policy_sha256", "plan_sha256", "repository",
                                       "commit", "iat", "nbf", "exp", "jti"])
        return w.json
    }
}
