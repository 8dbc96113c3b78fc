#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// An Ed25519 signing key for checkpoints.
///
/// File format (one line, mode 0600): `warden-ed25519-private v1 <base64 of the 32-byte seed>`.
public struct AuditSigningKey: Sendable {
    static let header = "warden-ed25519-private v1"
    let key: Curve25519.Signing.PrivateKey

    init(key: Curve25519.Signing.PrivateKey) { self.key = key }

    /// A fresh random key.
    public static func generate() -> AuditSigningKey { AuditSigningKey(key: .init()) }

    /// The matching public key.
    public var publicKey: AuditPublicKey { AuditPublicKey(raw: Array(key.publicKey.rawRepresentation)) }

    /// The private key file contents.
    public var fileContents: String {
        "\(Self.header) \(Base64.encode(Array(key.rawRepresentation)))\n"
    }

    /// Parses private key file contents.
    public init(fileContents: String, path: String = "<key>") throws(AuditError) {
        let raw = try KeyFile.payload(fileContents, header: Self.header, path: path)
        guard raw.count == 32, let k = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw .badKey(path: path, reason: "the private key must be 32 bytes of base64")
        }
        self.key = k
    }

    /// Loads a private key file.
    public static func load(path: String) throws(AuditError) -> AuditSigningKey {
        let bytes = try FileIO.read(path: path, limit: 4096, what: "key file")
        return try AuditSigningKey(fileContents: String(decoding: bytes, as: UTF8.self), path: path)
    }

    func sign(_ message: [UInt8]) throws(AuditError) -> [UInt8] {
        do { return Array(try key.signature(for: message)) } catch {
            throw .checkpoint("signing failed: \(error)")
        }
    }
}

/// An Ed25519 public key that verifies checkpoints.
///
/// File format: `warden-ed25519-public v1 <base64 of the 32-byte key>`. The key id is the
/// first 8 bytes of SHA-256 over the 32 raw key bytes, in lowercase hex (16 digits).
public struct AuditPublicKey: Sendable, Hashable {
    static let header = "warden-ed25519-public v1"
    public let rawRepresentation: [UInt8]

    init(raw: [UInt8]) { self.rawRepresentation = raw }

    /// 16 hex digits identifying this key in checkpoint records.
    public var keyID: String { Hex.encode(SHA256.hash(data: rawRepresentation).prefix(8)) }

    /// The public key file contents.
    public var fileContents: String {
        "\(Self.header) \(Base64.encode(rawRepresentation))\n"
    }

    public init(fileContents: String, path: String = "<key>") throws(AuditError) {
        let raw = try KeyFile.payload(fileContents, header: Self.header, path: path)
        guard raw.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            throw .badKey(path: path, reason: "the public key must be 32 bytes of base64")
        }
        self.rawRepresentation = raw
    }

    public static func load(path: String) throws(AuditError) -> AuditPublicKey {
        let bytes = try FileIO.read(path: path, limit: 4096, what: "key file")
        return try AuditPublicKey(fileContents: String(decoding: bytes, as: UTF8.self), path: path)
    }

    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let k = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return false }
        return k.isValidSignature(signature, for: message)
    }
}

enum KeyFile {
    static func payload(_ text: String, header: String, path: String) throws(AuditError) -> [UInt8] {
        var t = Substring(text)
        if t.hasSuffix("\n") { t = t.dropLast() }
        guard !t.contains("\n") else { throw .badKey(path: path, reason: "expected exactly one line") }
        guard t.hasPrefix(header + " ") else {
            throw .badKey(path: path, reason: "expected a line starting with \"\(header)\"")
        }
        let b64 = t.dropFirst(header.count + 1)
        guard let raw = Base64.decode(String(b64)) else { throw .badKey(path: path, reason: "invalid base64") }
        return raw
    }
}
