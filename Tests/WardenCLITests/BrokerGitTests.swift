import Foundation
import Testing

/// git over the broker (agent: BrokerFixtures/git_agent.sh) against a real smart-HTTP server (`git http-backend` over TLS): clone
/// and an allowed push land with the secret injected as basic credentials; a push to
/// `refs/heads/main`, a push mixing an allowed and a refused ref, and a deletion are refused
/// before the server sees a receive-pack body, and the refs checked from the host are unchanged.
@Suite("broker end to end: git clone and push rules")
struct BrokerGitTests {
    static let rules = """
          allow https GET, POST "git.broker.test:GITPORT/acme/app.git/**" with basic "x-access-token" gh-token
          allow git push "git.broker.test:GITPORT/acme/app" ref "refs/heads/agent/*"
          deny  git push "git.broker.test:GITPORT/acme/app" ref "refs/heads/main"
        """

    @Test func allowedPushLandsAndRefusedPushesLeaveRefsUnchanged() throws {
        if let reason = BrokerWorld.skipReason { print("skip: \(reason)"); return }
        let world = try BrokerWorld(tag: "git", withGit: true)
        defer { world.stop() }
        let before = try world.refs()
        let policy = try world.policy(Self.rules)
        let run = try world.run("git_agent.sh", [String(world.gitPort)], policy: policy, timeout: 120)
        let v = run.values
        #expect(run.status == 0, "\(run.all)")
        #expect(v["clone"] == "0", "\(run.all)")
        #expect(v["clone_head"] == before["refs/heads/main"], "the clone has the server's main: \(run.all)")

        // The allowed push landed, as the agent's commit.
        let after = try world.refs()
        #expect(v["push_agent"] == "0", "\(run.all)")
        #expect(after["refs/heads/agent/feature"] != nil && after["refs/heads/agent/feature"] == v["agent_commit"], "\(after) \(run.all)")
        // Refused: main, a push naming main next to an allowed ref, a deletion.
        #expect(v["push_main"] != "0", "\(run.all)")
        #expect(v["push_mixed"] != "0", "\(run.all)")
        #expect(v["push_delete"] != "0", "\(run.all)")
        #expect(after["refs/heads/main"] == before["refs/heads/main"], "main moved: \(after)")
        #expect(after["refs/heads/agent/other"] == nil, "a push mixing a refused ref landed partly: \(after)")
        #expect(after.count == before.count + 1, "\(before) -> \(after)")
        #expect(run.all.contains("403"), "git shows the refusal status: \(run.all)")

        // The server saw exactly one receive-pack POST (the allowed push) and every request
        // carried exactly the injected credentials, never the agent's own.
        let log = BrokerWorld.jsonLines(world.gitLog)
        let receivePacks = log.filter { ($0["method"] as? String) == "POST" && ($0["target"] as? String)?.hasSuffix("/git-receive-pack") == true }
        #expect(receivePacks.count == 1, "receive-pack POSTs at the server: \(receivePacks.count)")
        #expect(!log.isEmpty && log.allSatisfy { ($0["auth_ok"] as? Bool) == true && ($0["authorization_count"] as? Int) == 1 },
                "\(log.map { "\($0["method"] ?? "") \($0["target"] ?? "") auth_ok=\($0["auth_ok"] ?? "")" })")

        // Refused pushes are audited; the secret is nowhere the agent can see.
        #expect(world.audit("http.refused").count >= 3, "\(world.audit("http.refused"))")
        #expect(!world.containsSecret(run.all))
        #expect(world.filesHoldingSecret(under: world.workspace).isEmpty, "\(world.filesHoldingSecret(under: world.workspace))")
    }
}
