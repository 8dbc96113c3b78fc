#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// A P-256 public key that verifies run tokens, with its JWK form and key id.
///
/// The key id (`kid`) is the key's full RFC 7638 JWK thumbprint: base64url of SHA-256 over
/// `{"crv":"P-256","kty":"EC","x":X,"y":Y}` (members in that order, no whitespace), 43
/// characters. Anyone holding the JWK can recompute it, and it names the key material
/// itself, so two files can never claim the same kid for different keys.
public struct IssuerPublicKey: Sendable, Hashable {
    /// The uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
    public let x963: [UInt8]

    public init(x963 bytes: [UInt8]) throws(IdentityError) {
        guard bytes.count == 65, bytes[0] == 0x04, (try? P256.Signing.PublicKey(x963Representation: bytes)) != nil else {
            throw .keyFile(path: "<public key>", reason: "not an uncompressed P-256 point")
        }
        x963 = bytes
    }

    init(_ key: P256.Signing.PublicKey) { x963 = Array(key.x963Representation) }

    var x: [UInt8] { Array(x963[1..<33]) }
    var y: [UInt8] { Array(x963[33..<65]) }

    /// The RFC 7638 thumbprint input.
    var thumbprintInput: String {
        "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"\(Base64URL.encode(x))\",\"y\":\"\(Base64URL.encode(y))\"}"
    }

    /// The key id: base64url of the SHA-256 JWK thumbprint (RFC 7638).
    public var keyID: String { Base64URL.encode(Array(SHA256.hash(data: Array(thumbprintInput.utf8)))) }

    /// The key as a JWK for a JWKS: `kty, crv, x, y, kid, use, alg`.
    public var jwk: String {
        var w = JSONObjectWriter()
        w.string("kty", "EC")
        w.string("crv", "P-256")
        w.string("x", Base64URL.encode(x))
        w.string("y", Base64URL.encode(y))
        w.string("kid", keyID)
        w.string("use", "sig")
        w.string("alg", "ES256")
        return w.json
    }

    /// Reads a JWK (an object from a JWKS): EC, P-256, and, when present, `alg` ES256,
    /// `use` sig and a `kid` equal to the thumbprint.
    public init(jwk: JSONValue) throws(IdentityError) {
        guard jwk["kty"]?.stringValue == "EC", jwk["crv"]?.stringValue == "P-256" else {
            throw .invalidJSON("a JWK that is not an EC P-256 key")
        }
        if let alg = jwk["alg"], alg.stringValue != "ES256" { throw .invalidJSON("a JWK whose alg is not ES256") }
        if let use = jwk["use"], use.stringValue != "sig" { throw .invalidJSON("a JWK whose use is not sig") }
        guard let x = jwk["x"]?.stringValue.flatMap(Base64URL.decode), x.count == 32,
              let y = jwk["y"]?.stringValue.flatMap(Base64URL.decode), y.count == 32 else {
            throw .invalidJSON("a JWK whose x or y is not 32 bytes of base64url")
        }
        do { try self.init(x963: [0x04] + x + y) } catch { throw .invalidJSON("a JWK whose x, y is not a point on P-256") }
        if let kid = jwk["kid"], kid.stringValue != keyID {
            throw .invalidJSON("a JWK whose kid is not its RFC 7638 thumbprint")
        }
    }

    func isValidSignature(_ raw: [UInt8], for message: [UInt8]) -> Bool {
        guard raw.count == 64,
              let key = try? P256.Signing.PublicKey(x963Representation: x963),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// A P-256 private key that signs run tokens (ES256).
public struct IssuerSigningKey: Sendable {
    let key: P256.Signing.PrivateKey

    init(key: P256.Signing.PrivateKey) { self.key = key }

    /// A fresh random key.
    public static func generate() -> IssuerSigningKey { IssuerSigningKey(key: .init()) }

    /// Reads the 32-byte private scalar.
    public init(raw: [UInt8]) throws(IdentityError) {
        guard raw.count == 32, let k = try? P256.Signing.PrivateKey(rawRepresentation: raw) else {
            throw .keyFile(path: "<private key>", reason: "not a 32-byte P-256 private key")
        }
        key = k
    }

    var raw: [UInt8] { Array(key.rawRepresentation) }

    public var publicKey: IssuerPublicKey { IssuerPublicKey(key.publicKey) }

    /// ES256: ECDSA P-256 over SHA-256, as the raw 64-byte R || S that JWS uses (RFC 7518
    /// §3.4), not DER. Always low-S (s ≤ n/2; see `ECDSALowS`): swift-crypto may return
    /// either twin, and `RunToken.verify` refuses the high one.
    func sign(_ message: [UInt8]) throws(IdentityError) -> [UInt8] {
        do { return ECDSALowS.normalised(Array(try key.signature(for: message).rawRepresentation)) } catch {
            throw .signing("\(error)")
        }
    }
}
