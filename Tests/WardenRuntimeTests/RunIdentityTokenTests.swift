import Foundation
import Testing
import WardenAudit
import WardenIdentity
@testable import WardenRuntime

/// The run identity token the runtime issues: claims from `run.start`, lifetime, and what
/// it adds to a launch (signing and writing the file).
@Suite struct RunIdentityTokenTests {
    func start(workspace: String) -> RunStartInfo {
        RunStartInfo(identity: "updater", policySHA256: String(repeating: "1", count: 64), planSHA256: String(repeating: "2", count: 64),
                     argv: ["true"], workspace: workspace, user: "u", uid: 0, host: "h", wardenVersion: "t", enforcedLayers: [])
    }

    func host(keys: String) -> HostFacts {
        var host = HostFacts.current()
        host.environment["WARDEN_IDENTITY_KEYS"] = keys
        host.environment.removeValue(forKey: "WARDEN_ISSUER")
        return host
    }

    @Test func claimsComeFromTheRunAndTheLimit() throws {
        let dir = try Fixture.tempDir("idtoken")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let host = host(keys: dir + "/keys")
        let issued = try RunIdentityToken.issue(options: RunIdentityOptions(audience: "sts.example"), host: host,
                                                start: start(workspace: dir), runID: "00112233445566ff",
                                                lifetime: .seconds(600), now: 1_000)
        #expect(issued.createdKeyDirectory == dir + "/keys")
        let verified = try RunToken.verify(issued.token, keys: try IssuerKeys(directory: dir + "/keys").publicKeys(), now: 1_000)
        #expect(verified.claims.runID == "00112233445566ff" && verified.claims.subject == "updater")
        #expect(verified.claims.audience == "sts.example")
        #expect(verified.claims.issuer == "https://warden.invalid/" + host.hostName)
        #expect(verified.claims.expiresAt == 1_600 && verified.claims.issuedAt == 1_000)
        #expect(verified.claims.repository == nil && verified.claims.commit == nil, "no git repository in the workspace")
        let event = issued.auditEvent
        #expect(event.kind == "identity.token")
        #expect(event.fields["jti"] == .string(verified.claims.tokenID) && event.fields["kid"] == .string(verified.keyID))
        #expect(!event.fields.values.contains(.string(issued.token)))
        // Without a limit: one hour.
        let second = try RunIdentityToken.issue(options: .init(), host: host, start: start(workspace: dir), runID: "r",
                                                lifetime: nil, now: 1_000)
        #expect(second.claims.expiresAt == 1_000 + 3_600 && second.createdKeyDirectory == nil)
        #expect(second.claims.tokenID != issued.claims.tokenID)
    }

    /// What the token adds to a launch: load the key, read the workspace's git facts, sign,
    /// write the file. Printed for docs/identity.md; bounded loosely so a slow CI host passes.
    @Test func launchCost() throws {
        let dir = try Fixture.tempDir("idtoken")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let host = host(keys: dir + "/keys")
        _ = try IssuerKeys(directory: dir + "/keys").currentOrCreate()
        let rounds = 200
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for i in 0..<rounds {
                let issued = try RunIdentityToken.issue(options: .init(), host: host, start: start(workspace: Fixture.packageRoot),
                                                        runID: "r", lifetime: nil, now: 1_000)
                try issued.file.write(dir + "/token-\(i)")
            }
        }
        let perLaunch = elapsed / rounds
        print("identity token: \(perLaunch) per launch (load key, git facts, sign, write)")
        let keys = IssuerKeys(directory: dir + "/keys")
        let load = try clock.measure { for _ in 0..<rounds { _ = try keys.current() } } / rounds
        let git = clock.measure { for _ in 0..<rounds { _ = WorkspaceGitFacts.read(workspace: Fixture.packageRoot) } } / rounds
        let key = try keys.current()
        let claims = RunTokenClaims(issuer: "i", subject: "s", audience: "a", runID: "r", policySHA256: "p", planSHA256: "q",
                                    issuedAt: 1, expiresAt: 2)
        let sign = try clock.measure { for _ in 0..<rounds { _ = try RunToken.sign(claims, with: key) } } / rounds
        let create = try clock.measure { for _ in 0..<rounds { _ = try keys.currentOrCreate() } } / rounds
        let issue = try clock.measure {
            for _ in 0..<rounds {
                _ = try RunIdentityToken.issue(options: .init(), host: host, start: start(workspace: Fixture.packageRoot),
                                               runID: "r", lifetime: nil, now: 1_000)
            }
        } / rounds
        print("identity token parts: load key \(load), currentOrCreate \(create), git facts \(git), sign \(sign), issue \(issue)")
        #expect(perLaunch < .milliseconds(10))
    }
}
