import Foundation
import NIOSSL
import Testing
import X509
@testable import WardenBroker

@Suite("Run certificate authority")
struct RunCertificateAuthorityTests {
    @Test func caCertificateIsAConstrainedCA() throws {
        let ca = try RunCertificateAuthority()
        let cert = try Certificate(pemEncoded: ca.certificatePEM)
        #expect(cert.subject.description.contains("Warden run CA"))
        let bc = try #require(try cert.extensions.basicConstraints)
        #expect(bc == .isCertificateAuthority(maxPathLength: 0))
        #expect(try cert.extensions.keyUsage?.keyCertSign == true)
        #expect(cert.notValidAfter.timeIntervalSince(cert.notValidBefore) <= 49 * 3600)
    }

    @Test func leafNamesExactlyItsHostAndIsCached() throws {
        let ca = try RunCertificateAuthority()
        let leaf = try ca.leaf(for: "API.Example.com")
        let cert = try Certificate(pemEncoded: leaf.certificatePEM)
        let san = try #require(try cert.extensions.subjectAlternativeNames)
        #expect(Array(san) == [.dnsName("api.example.com")])
        #expect(try cert.extensions.extendedKeyUsage?.contains(.serverAuth) == true)
        #expect(try cert.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try ca.leaf(for: "api.example.com").certificatePEM == leaf.certificatePEM)
    }

    @Test func refusesNamesThatAreNotHostNames() throws {
        let ca = try RunCertificateAuthority()
        for bad in ["", "10.0.0.1", "a..b", "-x.com", "x_y.com", "a b", "*.example.com", String(repeating: "a", count: 64) + ".com"] {
            #expect(throws: RunCertificateAuthority.MintError.self) { try ca.leaf(for: bad) }
        }
    }

    @Test func cacheIsBounded() throws {
        let ca = try RunCertificateAuthority(maxCachedLeaves: 2)
        let first = try ca.leaf(for: "a.test").certificatePEM
        _ = try ca.leaf(for: "b.test")
        _ = try ca.leaf(for: "c.test")
        #expect(try ca.leaf(for: "a.test").certificatePEM != first)
    }
}
