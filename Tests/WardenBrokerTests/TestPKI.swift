import Crypto
import Foundation
import NIOSSL
import X509

/// A certificate authority for the fake upstream servers (what a public CA is in production).
struct TestPKI {
    let caKey = P256.Signing.PrivateKey()
    let caName: DistinguishedName
    let caPEM: String
    let caFile: String

    init(name: String = "Test upstream CA") throws {
        caName = try DistinguishedName { CommonName(name) }
        let now = Date()
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 3600, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(caKey))
        caPEM = try ca.serializeAsPEM().pemString
        caFile = NSTemporaryDirectory() + "warden-broker-test-ca-\(UUID().uuidString).pem"
        try caPEM.write(toFile: caFile, atomically: true, encoding: .utf8)
    }

    /// A server certificate and key for `names`, signed by this CA.
    func server(names: [String]) throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 3600, issuer: caName,
            subject: try DistinguishedName { CommonName(names[0]) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names.map { .dnsName($0) })
            },
            issuerPrivateKey: .init(caKey))
        return (try NIOSSLCertificate(bytes: Array(try cert.serializeAsPEM().pemString.utf8), format: .pem),
                try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem))
    }
}
