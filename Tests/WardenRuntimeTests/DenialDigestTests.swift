import Testing
import WardenAudit
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime

/// The closing line's per-layer account and the failure digest, built from recorded denials
/// and the policy's own decisions.
@Suite struct DenialDigestTests {
    let t0 = AuditTime(seconds: 1_700_000_000, nanoseconds: 0)

    func policy() throws -> EffectivePolicy {
        let files = ["/p/main.warden": """
        warden 1
        identity agent {
          allow syscall @default
          allow fs read, write "/work"
          deny fs write "/work/.git/config"
          deny syscall setsid
          allow net connect tcp "127.0.0.1:1"
        }
        """]
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(files)).analyze("/p/main.warden")
        return try EffectivePolicy(policy: analysis.policy, identity: "agent")
    }

    let prefix = "warden explain /p/main.warden --identity agent"

    @Test func anUnobservedLayerIsNeverCountedAsZero() {
        let layers = LayerDenials.report(syscallsObserved: true, networkMediated: false, filesystemObserved: false,
                                         recorded: [AuditKind.denySyscall: 3], explain: prefix)
        let text = layers.account(logPath: "/log")
        #expect(text.hasPrefix("3 syscall denials recorded in /log; network and filesystem not observed"), "\(text)")
        #expect(text.contains("`\(prefix) --fs read|write|exec PATH`"), "\(text)")
        #expect(!text.contains("0 "), "\(text)")
        let none = LayerDenials.report(syscallsObserved: false, networkMediated: false, filesystemObserved: false,
                                       recorded: [:], explain: prefix).account(logPath: "/log")
        #expect(none.hasPrefix("no layer's denials observed; syscall and network and filesystem not observed"), "\(none)")
    }

    @Test func aPartlyObservedLayerIsCountedAndItsBlindSpotNamed() {
        let text = LayerDenials.report(syscallsObserved: true, networkMediated: true, filesystemObserved: true,
                                       recorded: [AuditKind.denyFs: 1], explain: prefix).account(logPath: "/log")
        #expect(text.hasPrefix("0 syscall denials, 0 network denials, 1 filesystem denial (Landlock only) recorded in /log; the mount world's filesystem refusals not observed"), "\(text)")
    }

    @Test func itemsNameTheActionTheDecidingRuleTheExplainCommandAndASuggestion() throws {
        let p = try policy()
        var tally = DenialTally()
        tally.add(.denySyscall(name: "unshare", nr: 272, args: [0x10000000], pid: 1, count: 3, first: t0, last: t0))
        tally.add(.denySyscall(name: "setsid", nr: 112, args: [], pid: 1, count: 2, first: t0, last: t0))
        tally.add(.denySyscall(name: "clone", nr: 56, args: [0x10000000, 0, 0, 0, 0, 0], pid: 1, first: t0, last: t0))
        tally.add(.network(denied: true, destination: "127.0.0.2", port: 9, proto: "tcp", domain: nil, pid: 1, rule: nil,
                           first: t0, last: t0))
        tally.add(.denyFs(path: "/work/.git/config", operation: "rename", access: "write", errno: 16, pid: 1, rule: nil,
                          source: "audit", first: t0, last: t0))
        tally.add(.denyFs(path: "/etc/x", operation: "open", access: "write", errno: 13, pid: 1, rule: nil,
                          source: "landlock", first: t0, last: t0))
        let layers = LayerDenials.report(syscallsObserved: true, networkMediated: true, filesystemObserved: true,
                                         recorded: [:], explain: prefix)
        let d = DenialDigest(tally: tally, effective: p, explain: prefix, layers: layers)
        #expect(d.items.count == 5 && d.moreDistinct == 1)
        #expect(d.unobserved.map(\.layer) == [.filesystem], "Landlock only: the mount world stays unobserved")

        let unshare = d.items[0]
        #expect(unshare.action == "syscall unshare" && unshare.count == 3)
        #expect(unshare.decidedBy == "no rule allows syscall unshare (default deny)")
        #expect(unshare.explain == prefix + " --syscall unshare")
        #expect(unshare.suggestion?.hasPrefix("suggestion: allow syscall unshare") == true)

        let setsid = d.items[1]
        #expect(setsid.decidedBy == "/p/main.warden:6:16: deny syscall setsid", "\(setsid.decidedBy)")
        #expect(setsid.suggestion?.contains("the deny at /p/main.warden:6:16 decides") == true)

        // clone's rules test its flags: the command carries them, and a built-in decides.
        let clone = d.items[2]
        #expect(clone.action == "syscall clone(0x10000000)")
        #expect(clone.explain == prefix + " --syscall clone:0x10000000")
        #expect(clone.decidedBy.hasPrefix("built-in: deny syscall clone(flags & CLONE_NEWUSER"), "\(clone.decidedBy)")
        #expect(clone.suggestion?.hasPrefix("none: a built-in safeguard decides") == true)

        let net = d.items[3]
        #expect(net.action == "connect tcp 127.0.0.2:9")
        #expect(net.explain == prefix + " --connect tcp 127.0.0.2:9")
        #expect(net.suggestion == "suggestion: allow net connect tcp \"127.0.0.2:9\"")

        let fs = d.items[4]
        #expect(fs.action == "rename /work/.git/config (EBUSY)")
        #expect(fs.decidedBy == "/p/main.warden:5:17: deny fs write \"/work/.git/config\"", "\(fs.decidedBy)")
        #expect(fs.explain == prefix + " --fs write /work/.git/config")
    }

    /// Network mediation's records carry the operation, how the call was decided and the
    /// explain arguments (the `net` change); the digest uses them when present.
    @Test func networkRecordsWithDecisionDetailPlugIn() throws {
        var tally = DenialTally()
        tally.add(AuditEvent(kind: AuditKind.denyNet, fields: [
            "destination": .string("127.0.0.1"), "port": .int(5432), "protocol": .string("tcp"), "pid": .int(1),
            "count": .int(2), "operation": .string("listen"), "decided_by": .string("built-in"),
            "rule": .string("built-in: listen on a host loopback port"),
            "explain": .strings(["--bind", "tcp", "127.0.0.1:5432"]),
        ]))
        tally.add(AuditEvent(kind: AuditKind.denyNet, fields: [
            "destination": .string("10.0.0.1"), "port": .int(443), "protocol": .string("tcp"), "pid": .int(1),
            "count": .int(1), "operation": .string("sendto"), "decided_by": .string("default"),
            "rule": .string("no rule allows connect udp 10.0.0.1:443"),
        ]))
        let layers = LayerDenials.report(syscallsObserved: true, networkMediated: true, filesystemObserved: false,
                                         recorded: [:], explain: prefix)
        let d = DenialDigest(tally: tally, effective: try policy(), explain: prefix, layers: layers)
        #expect(d.items[0].action == "listen tcp 127.0.0.1:5432")
        #expect(d.items[0].decidedBy == "built-in: listen on a host loopback port")
        #expect(d.items[0].explain == prefix + " --bind tcp 127.0.0.1:5432")
        #expect(d.items[0].suggestion?.hasPrefix("none:") == true)
        #expect(d.items[1].decidedBy == "no rule allows connect udp 10.0.0.1:443")
        #expect(d.items[1].explain == prefix + " --connect tcp 10.0.0.1:443")
        #expect(d.items[1].suggestion == "suggestion: allow net connect tcp \"10.0.0.1:443\"")
    }

    @Test func anActionThePolicyAllowsButTheKernelRefusedSaysSo() throws {
        var tally = DenialTally()
        tally.add(.denyFs(path: "/work/src/a.c", operation: "openat", access: "write", errno: 13, pid: 1, rule: nil,
                          source: "mount", first: t0, last: t0))
        let layers = LayerDenials.report(syscallsObserved: true, networkMediated: true, filesystemObserved: true,
                                         recorded: [:], explain: prefix)
        let d = DenialDigest(tally: tally, effective: try policy(), explain: prefix, layers: layers)
        #expect(d.items.first?.decidedBy.hasPrefix("allowed by /p/main.warden:4:") == true, "\(d.items)")
        #expect(d.items.first?.suggestion?.hasPrefix("none: the policy allows this") == true, "\(d.items)")
    }

    @Test func aRecordedPathIsExplainedAsThePolicyNamesIt() throws {
        let files = ["/p/main.warden": """
        warden 1
        identity agent {
          allow fs read, write "${workspace}"
          deny fs write "${workspace}/.git/config"
        }
        """]
        let analysis = try PolicyLoader(provider: InMemorySourceProvider(files)).analyze("/p/main.warden")
        let p = try EffectivePolicy(policy: analysis.policy, identity: "agent")
        var tally = DenialTally()
        tally.add(.denyFs(path: "/srv/ws/.git/config", operation: "fs.write_file", access: "write", errno: 30, pid: 1,
                          rule: nil, source: "landlock", first: t0, last: t0))
        let layers = LayerDenials.report(syscallsObserved: true, networkMediated: true, filesystemObserved: true,
                                         recorded: [:], explain: prefix)
        let d = DenialDigest(tally: tally, effective: p, explain: prefix, layers: layers,
                             bindings: PathBindings(workspace: "/srv/ws", home: "/root", tmp: "/tmp"))
        #expect(d.items.first?.explain == prefix + " --fs write '${workspace}/.git/config'")
        #expect(d.items.first?.decidedBy.hasPrefix("/p/main.warden:4:17: deny fs write") == true, "\(d.items)")
        #expect(DenialDigest.policyPath("/srv/wsx/a", bindings: PathBindings(workspace: "/srv/ws", home: "/root", tmp: "/tmp")) == "/srv/wsx/a")
    }

    @Test func linesAreEscapedAndTheRecordCarriesTheSameItems() throws {
        var tally = DenialTally()
        tally.add(.denyFs(path: "/work/\u{1B}[2Jevil", operation: "open", access: "write", errno: 13, pid: 1, rule: nil,
                          source: "landlock", first: t0, last: t0))
        let layers = LayerDenials.report(syscallsObserved: true, networkMediated: false, filesystemObserved: true,
                                         recorded: [:], explain: prefix)
        let d = DenialDigest(tally: tally, effective: try policy(), explain: prefix, layers: layers)
        let lines = d.lines(logPath: "/log", runID: "r1")
        #expect(lines.allSatisfy { !$0.unicodeScalars.contains("\u{1B}") }, "\(lines)")
        #expect(lines.contains { $0.contains("network: not observed") })
        let event = d.auditEvent
        #expect(event.kind == AuditKind.runDigest)
        #expect(event.fields["denials"]?.arrayValue?.count == 1)
        #expect(event.fields["unobserved"]?.objectValue?["network"] != nil)
    }

    @Test func aFailedRunWithNothingRecordedSaysSoAndPointsAtExplain() throws {
        let layers = LayerDenials.report(syscallsObserved: true, networkMediated: false, filesystemObserved: false,
                                         recorded: [:], explain: prefix)
        let d = DenialDigest(tally: DenialTally(), effective: try policy(), explain: prefix, layers: layers)
        let lines = d.lines(logPath: "/log", runID: "r1")
        #expect(lines.first == "warden: the run failed; no denial was recorded")
        #expect(lines.contains { $0.contains("filesystem: not observed") && $0.contains("EBUSY") && $0.contains(prefix + " --fs") })
    }
}
