import Foundation
import Testing

@testable import WardenAudit

/// Checkpoint signatures: forgeries, unknown keys, rotation.
@Suite struct SignatureTests {
    /// Rewrites the log after changing one record: every later prev is recomputed so the
    /// chain is intact. Checkpoints are re-signed by `resign` (or keep their old signature).
    func forge(_ f: TamperFixture, resign: AuditSigningKey?, claimKeyID: String? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        var prev = AuditRecord.genesisHash
        var logID: String?
        var changed = false
        for l in f.lines {
            let body = Array(l.dropLast())
            guard var rec = try? AuditRecord.parse(line: body) else {
                out += l  // the torn line stays as it is
                continue
            }
            if !changed, rec.kind == AuditKind.denySyscall, rec.seq > 10 {
                rec.fields["count"] = 1  // hide how often the agent tried
                changed = true
            }
            rec.prev = prev
            if rec.kind == AuditKind.checkpoint, let key = resign, let id = logID {
                let origin = CheckpointNote.origin(logID: id)
                let note = try #require(CheckpointNote.body(origin: origin, seq: rec.seq, headHex: prev, ts: rec.ts, run: rec.run, version: rec.version))
                rec.fields["sig"] = .string(Base64.encode(try key.sign(note)))
                rec.fields["key"] = .string(claimKeyID ?? key.publicKey.keyID)
                rec.fields["log"] = .string(origin)
            }
            let line = rec.lineBytes()
            let hash = AuditHash.sha256Hex(line)
            if rec.seq == 0 { logID = hash }
            prev = hash
            out += line + [UInt8(ascii: "\n")]
        }
        return out
    }

    @Test func forgeryWithRecomputedHashesIsCaughtBySignature() throws {
        let f = try TamperFixture.get()
        let forged = try forge(f, resign: nil)
        // The chain itself is intact...
        let chainOnly = try AuditVerifier().verify(bytes: forged)
        #expect(chainOnly.failure == nil)
        // ...but the first checkpoint after the change no longer verifies.
        let r = try f.verify(forged, trusted: false)
        #expect(r.status == .tampered)
        #expect(r.failure?.code == "signature")
    }

    @Test func forgerySignedByAttackerKeyClaimingTheRealKeyIDFails() throws {
        let f = try TamperFixture.get()
        let forged = try forge(f, resign: AuditSigningKey.generate(), claimKeyID: f.key.keyID)
        let r = try f.verify(forged, trusted: false)
        #expect(r.status == .tampered)
        #expect(r.failure?.code == "signature")
    }

    @Test func forgerySignedByAttackerKeyIsOnlyAWarning() throws {
        let f = try TamperFixture.get()
        let forged = try forge(f, resign: AuditSigningKey.generate())
        let r = try f.verify(forged, trusted: false)
        #expect(r.status == .warnings)
        #expect(r.verifiedCheckpoints == 0)
        #expect(r.warnings.contains { $0.code == "unsigned-tail" })
        // With the trusted checkpoint the forgery is inconsistent.
        #expect(try f.verify(forged).status == .tampered)
    }

    @Test func unknownKeyReportsWarningNotSuccess() throws {
        let f = try TamperFixture.get()
        let other = AuditSigningKey.generate().publicKey
        let r = try f.verify(f.bytes, trusted: false, keys: [other])
        #expect(r.status == .warnings)
        #expect(r.unknownKeyCheckpoints > 10)
        #expect(r.warnings.first?.code == "unsigned-tail")
        #expect(r.warnings.first?.line == 1)
    }

    @Test func noPublicKeyIsAWarning() throws {
        let f = try TamperFixture.get()
        let r = try f.verify(f.bytes, trusted: false, keys: [])
        #expect(r.status == .warnings)
        #expect(r.warnings.map(\.code) == ["no-public-key"])
    }

    @Test func rotatedKeysVerifyTogetherAndNewestKeyAlone() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("log.jsonl")
        let old = AuditSigningKey.generate()
        let new = AuditSigningKey.generate()
        try writeRealisticLog(path: path, key: old, runs: 2, denialsPerRun: 5)
        try writeRealisticLog(path: path, key: new, runs: 2, denialsPerRun: 5)
        let both = try AuditVerifier(publicKeys: [old.publicKey, new.publicKey]).verify(path: path)
        #expect(both.status == .intact)
        #expect(both.verifiedCheckpoints == 4)
        let newest = try AuditVerifier(publicKeys: [new.publicKey]).verify(path: path)
        #expect(newest.status == .intact)
        #expect(newest.unknownKeyCheckpoints == 2)
        let oldest = try AuditVerifier(publicKeys: [old.publicKey]).verify(path: path)
        #expect(oldest.status == .warnings)
    }

    @Test func keyFilesRoundTripAndRejectGarbage() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let key = AuditSigningKey.generate()
        try AuditKeyFiles.write(key, privatePath: dir.file("k.key"), publicPath: dir.file("k.pub"))
        var st = stat()
        stat(dir.file("k.key"), &st)
        #expect(st.st_mode & 0o777 == 0o600)
        let loaded = try AuditSigningKey.load(path: dir.file("k.key"))
        #expect(loaded.publicKey == key.publicKey)
        #expect(try AuditPublicKey.load(path: dir.file("k.pub")) == key.publicKey)
        #expect(key.publicKey.keyID.count == 16)
        // Never overwrites.
        #expect(throws: AuditError.self) { try AuditKeyFiles.write(key, privatePath: dir.file("k.key"), publicPath: dir.file("x.pub")) }
        for bad in ["", "warden-ed25519-private v1", "warden-ed25519-private v1 !!!", "warden-ed25519-private v1 QUJD",
                    "warden-ed25519-public v1 " + Base64.encode(Array(repeating: 1, count: 32))] {
            #expect(throws: AuditError.self) { try AuditSigningKey(fileContents: bad) }
        }
        #expect(throws: AuditError.self) { try AuditPublicKey(fileContents: key.fileContents) }
    }
}
