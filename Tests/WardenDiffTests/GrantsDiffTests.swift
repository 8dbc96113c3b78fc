import Testing
import WardenCompiler
import WardenPolicy

/// Identity `a`'s witnesses of `domain` between two policies (`head` before the identity).
private func grantChanges(_ domain: DiffDomain, _ old: [String], _ new: [String], head: String = "")
    throws -> (widenings: [DiffWitness], narrowings: [DiffWitness], verdict: DiffVerdict) {
    func text(_ lines: [String]) -> String { "warden 1\n\(head)identity a {\n" + lines.map { "  \($0)\n" }.joined() + "}\n" }
    let a = try #require(try diff(text(old), text(new)).identities.first)
    return (a.widenings.filter { $0.domain == domain }, a.narrowings.filter { $0.domain == domain }, a.verdict)
}

@Suite struct GrantsDiffTests {
    @Test func capabilities() throws {
        let bind = "allow capability NET_BIND_SERVICE"
        let added = try grantChanges(.capability, [bind], ["allow capability NET_BIND_SERVICE, SYS_PTRACE"])
        #expect(added.widenings.map(\.action) == ["capability CAP_SYS_PTRACE"])
        #expect(added.widenings.first?.explainArguments == ["--capability", "CAP_SYS_PTRACE"])
        #expect(added.widenings.first?.new.rules.map(\.line) == [3])
        #expect(added.narrowings.isEmpty && added.verdict == .wider)
        let denied = try grantChanges(.capability, [bind], [bind, "deny capability NET_BIND_SERVICE"])
        #expect(denied.widenings.isEmpty)
        #expect(denied.narrowings.map(\.action) == ["capability CAP_NET_BIND_SERVICE"])
        #expect(denied.narrowings.first?.new.rules.map(\.rule) == ["deny capability NET_BIND_SERVICE"])
        let respelled = try grantChanges(.capability, [bind], ["allow capability cap_net_bind_service"])
        #expect(respelled.widenings.isEmpty && respelled.narrowings.isEmpty && respelled.verdict == .equivalent)
    }

    @Test func limitsRaisedAndRemovedWiden() throws {
        let raised = try grantChanges(.limit, ["limit memory 4GiB"], ["limit memory 8GiB"])
        #expect(raised.widenings.map(\.probe) == [.limit(.memory, amount: 4 << 30 + 1)])
        #expect(raised.widenings.map(\.action) == ["use 4294967297 bytes of memory"])
        #expect(raised.widenings.first?.note == "limit memory: 4GiB before, 8GiB now")
        #expect(raised.widenings.first?.explainArguments == [])
        #expect(raised.narrowings.isEmpty)
        let removed = try grantChanges(.limit, ["limit processes 256", "limit wall-time 30m"], ["limit wall-time 30m"])
        #expect(removed.widenings.map(\.action) == ["use 257 of processes"])
        #expect(removed.widenings.first?.note == "limit processes: 256 before, none now")
        #expect(removed.widenings.first?.old.rules.map(\.rule) == ["limit processes 256"])
        #expect(removed.narrowings.isEmpty)
    }

    @Test func limitsLoweredAndAddedNarrow() throws {
        let lowered = try grantChanges(.limit, ["limit wall-time 1h"], ["limit wall-time 30m"])
        #expect(lowered.narrowings.map(\.probe) == [.limit(.wallTime, amount: 1801)])
        #expect(lowered.narrowings.map(\.action) == ["use 30m1s of wall-time"])
        #expect(lowered.widenings.isEmpty && lowered.verdict == .narrower)
        let added = try grantChanges(.limit, [], ["limit open-files 64"])
        #expect(added.narrowings.map(\.probe) == [.limit(.openFiles, amount: 65)])
        #expect(added.narrowings.first?.note == "limit open-files: none before, 64 now")
        // The same amount spelled differently is no change; several kinds move at once.
        let respelled = try grantChanges(.limit, ["limit memory 4G", "limit wall-time 90m"], ["limit memory 4GiB", "limit wall-time 1h30m"])
        #expect(respelled.widenings.isEmpty && respelled.narrowings.isEmpty && respelled.verdict == .equivalent)
        let both = try grantChanges(.limit, ["limit memory 4GiB", "limit processes 64"], ["limit memory 2GiB", "limit processes 128"])
        #expect(both.widenings.map(\.probe) == [.limit(.processes, amount: 65)])
        #expect(both.narrowings.map(\.probe) == [.limit(.memory, amount: 2 << 30 + 1)])
        #expect(both.verdict == .both)
    }

    @Test func environment() throws {
        let c = try grantChanges(.environment, ["env pass PATH", "env set CI = \"true\""],
                                 ["env pass PATH, AWS_PROFILE", "env set CI = \"false\"", "env set MODE = \"x\""])
        #expect(c.widenings.map(\.probe) == [.envPass("AWS_PROFILE"), .envSet("MODE")])
        #expect(c.widenings.map(\.action) == ["receive $AWS_PROFILE from Warden's environment", "receive $MODE set by the policy"])
        #expect(c.narrowings.isEmpty)
        let removed = try grantChanges(.environment, ["env pass PATH, HOME"], ["env pass PATH"])
        #expect(removed.narrowings.map(\.probe) == [.envPass("HOME")])
        #expect(removed.widenings.isEmpty)
        let valueOnly = try grantChanges(.environment, ["env set CI = \"true\""], ["env set CI = \"1\""])
        #expect(valueOnly.widenings.isEmpty && valueOnly.narrowings.isEmpty && valueOnly.verdict == .equivalent)
    }

    @Test func placeholders() throws {
        let head = "secret gh from env \"WARDEN_GH\"\n"
        let added = try grantChanges(.secret, [], ["env placeholder GH_TOKEN = gh"], head: head)
        #expect(added.widenings.map(\.probe) == [.placeholder(variable: "GH_TOKEN", secret: "gh")])
        #expect(added.widenings.map(\.action) == ["receive a placeholder of secret gh in $GH_TOKEN"])
        #expect(added.narrowings.isEmpty)
        let renamed = try grantChanges(.secret, ["env placeholder GH_TOKEN = gh"], ["env placeholder GITHUB_TOKEN = gh"], head: head)
        #expect(renamed.widenings.map(\.probe) == [.placeholder(variable: "GITHUB_TOKEN", secret: "gh")])
        #expect(renamed.narrowings.map(\.probe) == [.placeholder(variable: "GH_TOKEN", secret: "gh")])
    }

    @Test func caches() throws {
        let usr = #"allow fs read "/usr""#
        let pip = #"cache "${home}/.cache/pip""#
        let added = try grantChanges(.cache, [usr], [usr, pip])
        #expect(added.widenings.map(\.action) == ["keep ${home}/.cache/pip across runs (cache)"])
        #expect(added.widenings.first?.new.rules.map(\.rule) == [pip])
        #expect(added.narrowings.isEmpty)
        // The store persists across runs, unlike the fresh home: its reads and writes widen too.
        let fs = try grantChanges(.filesystem, [usr], [usr, pip])
        #expect(fs.widenings.map(\.action) == ["read ${home}/.cache/pip", "write ${home}/.cache/pip"])
        let removed = try grantChanges(.cache, [usr, pip], [usr])
        #expect(removed.narrowings.map(\.action) == ["keep ${home}/.cache/pip across runs (cache)"])
        #expect(removed.widenings.isEmpty)
    }
}
