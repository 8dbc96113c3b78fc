import Crypto
import Foundation
import NIOSSL
import X509

/// A certificate authority that lives for one run: a fresh P-256 key that never leaves
/// memory, a self-signed CA certificate the agent's world trusts, and leaf certificates minted
/// on demand per SNI host name (cached, bounded).
public final class RunCertificateAuthority: Sendable {
    /// The CA certificate (PEM) to add to the world's trust bundle.
    public let certificatePEM: String
    /// The CA's name, `Warden run CA <short id>`.
    public let commonName: String
    private let key: P256.Signing.PrivateKey
    private let name: DistinguishedName
    private let notBefore: Date
    private let notAfter: Date
    private let cache: LeafCache

    public enum MintError: Error, CustomStringConvertible {
        case invalidHostName(String)
        case certificate(String)
        public var description: String {
            switch self {
            case .invalidHostName(let h): return "run CA: refusing to mint a certificate for \"\(h)\": not a DNS host name"
            case .certificate(let m): return "run CA: cannot build a certificate: \(m)"
            }
        }
    }

    /// A leaf certificate and its key, ready for NIOSSL.
    public struct Leaf: Sendable {
        public let certificate: NIOSSLCertificate
        public let privateKey: NIOSSLPrivateKey
        /// The leaf certificate (PEM), for tests and diagnostics.
        public let certificatePEM: String
    }

    /// Creates the CA. `maxCachedLeaves` bounds the leaf cache.
    public init(now: Date = Date(), maxCachedLeaves: Int = 256) throws(MintError) {
        let key = P256.Signing.PrivateKey()
        self.key = key
        let shortID = SHA256.hash(data: key.publicKey.rawRepresentation).prefix(4).map { String(format: "%02x", $0) }.joined()
        commonName = "Warden run CA \(shortID)"
        let notBefore = now.addingTimeInterval(-3600)
        let notAfter = now.addingTimeInterval(48 * 3600)
        self.notBefore = notBefore
        self.notAfter = notAfter
        cache = LeafCache(capacity: maxCachedLeaves)
        do {
            let cn = "Warden run CA \(shortID)"
            let name = try DistinguishedName { CommonName(cn); OrganizationName("Warden") }
            self.name = name
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: notBefore, notValidAfter: notAfter,
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(key))
            certificatePEM = try certificate.serializeAsPEM().pemString
        } catch {
            throw .certificate(String(describing: error))
        }
    }

    /// The leaf for `host` (lowercased DNS name), minted on first use and cached.
    public func leaf(for host: String) throws(MintError) -> Leaf {
        let host = host.lowercased()
        guard Self.isDNSName(host) else { throw .invalidHostName(host) }
        if let cached = cache.get(host) { return cached }
        let leaf = try mint(host)
        cache.put(host, leaf)
        return leaf
    }

    private func mint(_ host: String) throws(MintError) -> Leaf {
        do {
            let leafKey = P256.Signing.PrivateKey()
            let subject = try DistinguishedName { CommonName(host) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName(host)])
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey)).keyIdentifier)
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PublicKey(leafKey.publicKey),
                notValidBefore: notBefore, notValidAfter: notAfter,
                issuer: name, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(key))
            let pem = try certificate.serializeAsPEM().pemString
            return Leaf(certificate: try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem),
                        privateKey: try NIOSSLPrivateKey(bytes: Array(leafKey.pemRepresentation.utf8), format: .pem),
                        certificatePEM: pem)
        } catch {
            throw .certificate(String(describing: error))
        }
    }

    /// LDH labels, 1-63 bytes each, at most 253 in all, at least one dot-free label; no IP literals.
    static func isDNSName(_ host: String) -> Bool {
        let bytes = Array(host.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
            for b in label where !((b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-")) { return false }
        }
        // All-numeric last label: an IPv4 literal, not a name.
        if let last = labels.last, last.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return false }
        return true
    }
}

/// A bounded name → leaf map; evicts the least recently minted entry when full.
private final class LeafCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: RunCertificateAuthority.Leaf] = [:]
    private var order: [String] = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func get(_ name: String) -> RunCertificateAuthority.Leaf? {
        lock.lock(); defer { lock.unlock() }
        return entries[name]
    }

    func put(_ name: String, _ leaf: RunCertificateAuthority.Leaf) {
        lock.lock(); defer { lock.unlock() }
        if entries[name] == nil {
            order.append(name)
            if order.count > capacity { entries[order.removeFirst()] = nil }
        }
        entries[name] = leaf
    }
}
