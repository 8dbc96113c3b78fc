import Testing
@testable import WardenIdentity
#if canImport(Glibc)
import Glibc
#endif

@Suite struct IssuerKeyTests {
    @Test func keyIDIsTheRFC7638Thumbprint() throws {
        // RFC 7638 §3.1 works with an RSA key; this checks the EC member order and the
        // thumbprint shape instead: 43 base64url characters of SHA-256, stable per key.
        let key = IssuerSigningKey.generate().publicKey
        #expect(key.keyID.utf8.count == 43)
        #expect(key.thumbprintInput.hasPrefix("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\""))
        let jwk = try JSONValue.parse(Array(key.jwk.utf8))
        #expect(jwk["kid"]?.stringValue == key.keyID)
        #expect(try IssuerPublicKey(jwk: jwk) == key)
    }

    @Test func jwksShape() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let keys = IssuerKeys(directory: dir.path + "/identity")
        let (signing, created) = try keys.currentOrCreate()
        #expect(created)
        let jwks = try JSONValue.parse(Array(IssuerDocuments.jwks(try keys.publicKeys()).utf8))
        guard case .array(let items)? = jwks["keys"] else { Issue.record("no keys array"); return }
        #expect(items.count == 1)
        let jwk = items[0]
        #expect(jwk["kty"] == .string("EC") && jwk["crv"] == .string("P-256") && jwk["use"] == .string("sig")
                && jwk["alg"] == .string("ES256") && jwk["kid"] == .string(signing.publicKey.keyID))
        #expect(Base64URL.decode(jwk["x"]!.stringValue!)?.count == 32)
        // A JWKS parsed back verifies a token.
        let parsed = try IssuerDocuments.keys(fromJWKS: Array(IssuerDocuments.jwks(try keys.publicKeys()).utf8))
        let claims = RunTokenClaims(issuer: "i", subject: "s", audience: "warden", runID: "r", policySHA256: "p",
                                    planSHA256: "q", issuedAt: 100, expiresAt: 200)
        _ = try RunToken.verify(try RunToken.sign(claims, with: signing), keys: parsed, now: 150)
        // Discovery names the algorithm and the JWKS.
        let discovery = try JSONValue.parse(Array(IssuerDocuments.discovery(issuer: "https://ci.example/warden/").utf8))
        #expect(discovery["issuer"] == .string("https://ci.example/warden/"))
        #expect(discovery["jwks_uri"] == .string("https://ci.example/warden/.well-known/jwks.json"))
        #expect(discovery["id_token_signing_alg_values_supported"] == .array([.string("ES256")]))
    }

    @Test func filesAndModes() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.path + "/a/b/identity"
        let keys = IssuerKeys(directory: path)
        #expect(throws: IdentityError.noKey(directory: path)) { try keys.current() }
        let (key, _) = try keys.currentOrCreate()
        let kid = key.publicKey.keyID
        var st = stat()
        lstat(path, &st)
        #expect(st.st_mode & 0o7777 == 0o700)
        lstat(path + "/" + kid + ".key", &st)
        #expect(st.st_mode & 0o7777 == 0o600)
        lstat(path + "/" + kid + ".pub", &st)
        #expect(st.st_mode & 0o7777 == 0o644)
        lstat(path + "/current", &st)
        #expect(st.st_mode & 0o7777 == 0o600)
        // A second call uses the same key.
        let again = try keys.currentOrCreate()
        #expect(!again.created && again.key.publicKey == key.publicKey)
    }

    @Test func rotationKeepsOldPublicKeysAndRetiresPrivateOnes() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let keys = IssuerKeys(directory: dir.path + "/identity")
        let first = try keys.currentOrCreate().key
        let claims = RunTokenClaims(issuer: "i", subject: "s", audience: "warden", runID: "r", policySHA256: "p",
                                    planSHA256: "q", issuedAt: 100, expiresAt: 200)
        let oldToken = try RunToken.sign(claims, with: first)
        let (second, previous) = try keys.rotate()
        #expect(previous == first.publicKey.keyID)
        #expect(try keys.current().publicKey == second)
        let published = try keys.publicKeys()
        #expect(published.map(\.keyID) == [second.keyID, first.publicKey.keyID])  // current first
        #expect(access(dir.path + "/identity/" + first.publicKey.keyID + ".key", F_OK) != 0)
        // Tokens of the retired key still verify; new tokens are signed by the new key.
        _ = try RunToken.verify(oldToken, keys: published, now: 150)
        let newToken = try RunToken.sign(claims, with: try keys.current())
        #expect(try RunToken.verify(newToken, keys: published, now: 150).keyID == second.keyID)
        // Removing the retired .pub removes it from the JWKS: its tokens stop verifying.
        unlink(dir.path + "/identity/" + first.publicKey.keyID + ".pub")
        #expect(throws: IdentityError.self) { try RunToken.verify(oldToken, keys: try keys.publicKeys(), now: 150) }
    }

    @Test func refusesSymlinkedKeyFilesAndDirectories() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let keys = IssuerKeys(directory: dir.path + "/identity")
        let kid = try keys.currentOrCreate().key.publicKey.keyID
        let base = dir.path + "/identity/"
        // The private key file replaced by a link to a copy elsewhere.
        rename(base + kid + ".key", dir.path + "/elsewhere.key")
        symlink(dir.path + "/elsewhere.key", base + kid + ".key")
        #expect(throws: IdentityError.self) { try keys.current() }
        unlink(base + kid + ".key")
        rename(dir.path + "/elsewhere.key", base + kid + ".key")
        _ = try keys.current()
        // `current` as a link.
        rename(base + "current", dir.path + "/current")
        symlink(dir.path + "/current", base + "current")
        #expect(throws: IdentityError.self) { try keys.current() }
        // A public key file as a link.
        unlink(base + "current")
        rename(dir.path + "/current", base + "current")
        symlink(base + kid + ".pub", base + "x.pub")
        #expect(throws: IdentityError.self) { try keys.publicKeys() }
        unlink(base + "x.pub")
        // The directory itself as a link.
        symlink(base, dir.path + "/linked")
        #expect(throws: IdentityError.self) { try IssuerKeys(directory: dir.path + "/linked").current() }
        #expect(throws: IdentityError.self) { try IssuerKeys(directory: dir.path + "/linked").rotate() }
    }

    @Test func refusesKeysOthersCanRead() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let keys = IssuerKeys(directory: dir.path + "/identity")
        let kid = try keys.currentOrCreate().key.publicKey.keyID
        chmod(dir.path + "/identity/" + kid + ".key", 0o640)
        #expect(throws: IdentityError.self) { try keys.current() }
        chmod(dir.path + "/identity/" + kid + ".key", 0o600)
        chmod(dir.path + "/identity", 0o750)
        #expect(throws: IdentityError.self) { try keys.current() }
        chmod(dir.path + "/identity", 0o700)
        _ = try keys.current()
    }

    @Test func refusesTamperedKeyFiles() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let keys = IssuerKeys(directory: dir.path + "/identity")
        let kid = try keys.currentOrCreate().key.publicKey.keyID
        let other = IssuerSigningKey.generate().publicKey
        // A .pub holding another key than its name says.
        let d = TemporaryDirectory(existing: dir.path + "/identity")
        d.write(kid + ".pub", "warden-es256-public v1 \(Base64URL.encode(other.x963))\n", mode: 0o644)
        #expect(throws: IdentityError.self) { try keys.publicKeys() }
        d.write(kid + ".pub", "garbage\n", mode: 0o644)
        #expect(throws: IdentityError.self) { try keys.publicKeys() }
        d.write("current", "not-a-kid\n")
        #expect(throws: IdentityError.self) { try keys.current() }
    }

    @Test func concurrentFirstUseAgreesOnOneKey() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.path + "/identity"
        let kids = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<8 { group.addTask { try? IssuerKeys(directory: path).currentOrCreate().key.publicKey.keyID } }
            var out: [String?] = []
            for await k in group { out.append(k) }
            return out
        }
        #expect(Set(kids.compactMap { $0 }).count == 1 && kids.allSatisfy { $0 != nil })
        #expect(try IssuerKeys(directory: path).publicKeys().count == 1)
    }

    @Test func defaultLocations() {
        #expect(IssuerKeys.defaultDirectory(environment: ["WARDEN_IDENTITY_KEYS": "/k"], uid: 1000) == "/k")
        #expect(IssuerKeys.defaultDirectory(environment: [:], uid: 0) == "/var/lib/warden/identity")
        #expect(IssuerKeys.defaultDirectory(environment: ["XDG_STATE_HOME": "/s"], uid: 1000) == "/s/warden/identity")
        #expect(IssuerKeys.defaultDirectory(environment: ["HOME": "/h"], uid: 1000) == "/h/.local/state/warden/identity")
        #expect(IssuerKeys.defaultIssuer(environment: [:], hostName: "ci1") == "https://warden.invalid/ci1")
        #expect(IssuerKeys.defaultIssuer(environment: ["WARDEN_ISSUER": "https://x"], hostName: "ci1") == "https://x")
    }
}

extension TemporaryDirectory {
    init(existing: String) { self.path = existing }
}

@Suite struct IssuerKeyRaceTests {
    /// Runs signing while another task rotates: every signing sees a whole key (the current
    /// one or the one just replaced), never a missing file.
    @Test func signingDuringRotationAlwaysFindsAKey() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.path + "/identity"
        _ = try IssuerKeys(directory: path).currentOrCreate()
        let failures = await withTaskGroup(of: Int.self) { group in
            group.addTask {
                var failed = 0
                for _ in 0..<30 { if (try? IssuerKeys(directory: path).rotate()) == nil { failed += 1 } }
                return failed
            }
            for _ in 0..<2 {
                group.addTask {
                    var failed = 0
                    for _ in 0..<300 { if (try? IssuerKeys(directory: path).current()) == nil { failed += 1 } }
                    return failed
                }
            }
            var total = 0
            for await f in group { total += f }
            return total
        }
        #expect(failures == 0)
        #expect(try IssuerKeys(directory: path).publicKeys().count == 31)
    }
}
