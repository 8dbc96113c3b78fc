import Foundation
import Testing

/// `warden identity …` and the token every run gets: the JWKS, rotation, verification, and
/// a real run whose token (read by the agent from `$WARDEN_ID_TOKEN_FILE`) verifies against
/// the JWKS and names the run of its `run.start` record.
@Suite("identity: run tokens, JWKS, rotation, verify")
struct IdentityCLITests {
    struct Setup {
        let dir: String
        var keys: String { dir + "/keys" }
        var workspace: String { dir + "/ws" }
        var log: String { dir + "/log/audit.jsonl" }
        var environment: [String: String] {
            var env = ProcessInfo.processInfo.environment
            env["WARDEN_IDENTITY_KEYS"] = keys
            env["PATH"] = "/usr/bin:/bin"
            env.removeValue(forKey: "WARDEN_ISSUER")
            return env
        }

        init() throws {
            dir = try WardenBinary.tempDir("identity")
            try FileManager.default.createDirectory(atPath: dir + "/ws", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir + "/log", withIntermediateDirectories: true)
        }

        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }

        func warden(_ args: [String], input: String? = nil, environment: [String: String]? = nil) throws -> WardenBinary.Result? {
            try WardenBinary.run(args, in: dir, environment: environment ?? self.environment, input: input)
        }

        func run(_ script: String, policy: String = WardenBinary.root + "/policies/default.warden",
                 environment: [String: String]? = nil) throws -> WardenBinary.Result? {
            try warden(["run", "--policy", policy, "--workspace", workspace, "--audit-log", log, "--", "/bin/sh", "-c", script],
                       environment: environment)
        }

        /// The records of the log, parsed.
        func records() throws -> [[String: Any]] {
            try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func jwksPrintsTheKeysAndRotationKeepsThePreviousOne() throws {
        let s = try Setup()
        defer { s.cleanup() }
        guard let none = try s.warden(["identity", "jwks"]) else { return }
        #expect(none.status == 2 && none.stderr.contains("warden identity rotate"))
        let first = try #require(try s.warden(["identity", "rotate"]))
        #expect(first.status == 0, "\(first.stderr)")
        let one = try #require(try s.warden(["identity", "jwks"]))
        let keys1 = try #require(try Self.json(one.stdout)["keys"] as? [[String: Any]])
        #expect(keys1.count == 1)
        #expect(keys1[0]["kty"] as? String == "EC" && keys1[0]["crv"] as? String == "P-256"
                && keys1[0]["use"] as? String == "sig" && keys1[0]["alg"] as? String == "ES256")
        _ = try #require(try s.warden(["identity", "rotate"]))
        let two = try #require(try s.warden(["identity", "jwks"]))
        let keys2 = try #require(try Self.json(two.stdout)["keys"] as? [[String: Any]])
        #expect(keys2.count == 2)
        #expect(keys2[1]["kid"] as? String == keys1[0]["kid"] as? String, "the previous key stays, after the current one")
        let discovery = try #require(try s.warden(["identity", "discovery", "--issuer", "https://ci.example/warden"]))
        let doc = try Self.json(discovery.stdout)
        #expect(doc["issuer"] as? String == "https://ci.example/warden")
        #expect(doc["jwks_uri"] as? String == "https://ci.example/warden/.well-known/jwks.json")
        #expect(doc["id_token_signing_alg_values_supported"] as? [String] == ["ES256"])
    }

    @Test func aRunsTokenVerifiesAndNamesItsRun() throws {
        let s = try Setup()
        defer { s.cleanup() }
        // The agent reads its token from the file the variable names; writing it fails.
        let script = #"cat "$WARDEN_ID_TOKEN_FILE" && echo "file=$WARDEN_ID_TOKEN_FILE" && (echo x > "$WARDEN_ID_TOKEN_FILE") 2>/dev/null || echo read-only"#
        guard let r = try s.run(script) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("created the first identity token issuer key"), "the first run says where it created the key")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let token = try #require(lines.first)
        #expect(lines.contains("read-only"))
        #expect(lines.contains { $0.hasPrefix("file=/") })

        let verified = try #require(try s.warden(["identity", "verify", token]))
        #expect(verified.status == 0, "\(verified.stderr)")
        let claims = try Self.json(verified.stdout)
        let records = try s.records()
        let start = try #require(records.first { $0["kind"] as? String == "run.start" })
        #expect(claims["run"] as? String == start["run"] as? String)
        #expect(claims["sub"] as? String == "default")
        #expect(claims["aud"] as? String == "warden")
        let startFields = try #require(start["fields"] as? [String: Any])
        #expect(claims["policy_sha256"] as? String == startFields["policy_sha256"] as? String)
        #expect(claims["plan_sha256"] as? String == startFields["plan_sha256"] as? String)
        // exp = start + the identity's wall-time limit (default.warden: 30m).
        let iat = try #require(claims["iat"] as? Int), exp = try #require(claims["exp"] as? Int)
        #expect(exp - iat == 30 * 60)

        // identity.token right after run.start, with the token's jti and never the token.
        let index = try #require(records.firstIndex { $0["kind"] as? String == "run.start" })
        #expect(records[index + 1]["kind"] as? String == "identity.token")
        let fields = try #require(records[index + 1]["fields"] as? [String: Any])
        #expect(fields["jti"] as? String == claims["jti"] as? String)
        #expect(fields["sub"] as? String == "default")
        #expect(!(try String(contentsOfFile: s.log, encoding: .utf8)).contains(token.split(separator: ".")[2]))

        // From stdin too; a tampered token exits 1.
        let fromStdin = try #require(try s.warden(["identity", "verify", "-"], input: token + "\n"))
        #expect(fromStdin.status == 0)
        var tampered = Array(token)
        tampered[tampered.count - 5] = tampered[tampered.count - 5] == "A" ? "B" : "A"
        let bad = try #require(try s.warden(["identity", "verify", String(tampered)]))
        #expect(bad.status == 1 && bad.stderr.contains("invalid token"))
    }

    @Test func tokenCarriesTheWorkspacesRepositoryWithoutCredentials() throws {
        let s = try Setup()
        defer { s.cleanup() }
        let git = { (args: [String]) throws in
            _ = try CLISupport.run("/usr/bin/git", ["-C", s.workspace] + args, environment: ["PATH": "/usr/bin:/bin", "HOME": s.dir])
        }
        try git(["init", "-q"])
        try git(["remote", "add", "origin", "https://x-access-token:ghs_secret@github.com/acme/app.git"])
        try git(["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x"])
        let head = try CLISupport.run("/usr/bin/git", ["-C", s.workspace, "rev-parse", "HEAD"], environment: ["PATH": "/usr/bin:/bin"])
        guard let r = try s.run(#"cat "$WARDEN_ID_TOKEN_FILE""#) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        let verified = try #require(try s.warden(["identity", "verify", r.stdout]))
        let claims = try Self.json(verified.stdout)
        #expect(claims["repository"] as? String == "https://github.com/acme/app.git")
        #expect(claims["commit"] as? String == head.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(!verified.stdout.contains("ghs_secret"))
    }

    /// A policy of one identity `agent` next to a copy of base.warden.
    func policy(_ s: Setup, _ rules: String) throws -> String {
        try FileManager.default.copyItem(atPath: WardenBinary.root + "/policies/base.warden", toPath: s.dir + "/base.warden")
        let path = s.dir + "/p.warden"
        try """
            warden 1
            include "base.warden"

            identity agent {
              use toolchain
              allow fs read, write, exec "${workspace}"
            \(rules)
              env pass PATH
            }

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aGrantOverRunMovesTheTokenIntoTmp() throws {
        let s = try Setup()
        defer { s.cleanup() }
        let p = try policy(s, "  allow fs read \"/run\"\n  use scratch")
        guard let r = try s.run(#"echo "$WARDEN_ID_TOKEN_FILE"; cat "$WARDEN_ID_TOKEN_FILE""#, policy: p) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "/tmp/.warden/id-token")
        let verified = try #require(try s.warden(["identity", "verify", lines.count > 1 ? lines[1] : ""]))
        let claims = try Self.json(verified.stdout)
        #expect(verified.status == 0 && claims["sub"] as? String == "agent", "\(verified.stderr)")
    }

    @Test func withoutRoomForTheFileTheRunSaysSo() throws {
        let s = try Setup()
        defer { s.cleanup() }
        let p = try policy(s, "  allow fs read \"/run\"")
        guard let r = try s.run(#"echo "[${WARDEN_ID_TOKEN_FILE-unset}]""#, policy: p) else { return }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "[unset]\n")
        #expect(r.stderr.contains("the identity token is not shown to the agent"))
    }

    @Test func aKeyDirectoryTheAgentCanReadIsRefused() throws {
        let s = try Setup()
        defer { s.cleanup() }
        var env = s.environment
        env["WARDEN_IDENTITY_KEYS"] = s.workspace + "/.keys"
        guard let r = try s.run("true", environment: env) else { return }
        #expect(r.status == 125)
        #expect(r.stderr.contains("identity token issuer's key directory"))
        #expect(!FileManager.default.fileExists(atPath: s.workspace + "/.keys"), "nothing created")
    }

    @Test func aSymlinkedKeyDirectoryIsRefused() throws {
        let s = try Setup()
        defer { s.cleanup() }
        _ = try #require(try s.warden(["identity", "rotate"]))
        try FileManager.default.createSymbolicLink(atPath: s.dir + "/linked", withDestinationPath: s.keys)
        var env = s.environment
        env["WARDEN_IDENTITY_KEYS"] = s.dir + "/linked"
        guard let jwks = try s.warden(["identity", "jwks"], environment: env) else { return }
        #expect(jwks.status == 2 && jwks.stderr.contains("symbolic link"))
        guard let r = try s.run("true", environment: env) else { return }
        #expect(r.status == 125 && r.stderr.contains("symbolic link"))
    }
}
