import Testing
@testable import WardenCompiler
import WardenKernel
import WardenPolicy

/// A policy with one identity `a` holding `rules` (one per line).
private func identity(_ rules: String...) -> String {
    "warden 1\nidentity a {\n" + rules.map { "  " + $0 + "\n" }.joined() + "}\n"
}

/// The syscall witnesses of identity `a` (widenings, narrowings).
private func syscallDiff(_ old: String, _ new: String) throws -> (widen: [DiffWitness], narrow: [DiffWitness], verdict: DiffVerdict) {
    let d = try diff(old, new)
    let a = try #require(d.identities.first { $0.identity == "a" })
    return (a.widenings.filter { $0.domain == .syscall }, a.narrowings.filter { $0.domain == .syscall }, a.verdict)
}

private func probe(_ w: DiffWitness) -> (String, [UInt64])? {
    if case .syscall(let name, let args) = w.probe { return (name, args) }
    return nil
}

@Suite struct SyscallDiffTests {
    /// A range's prefix cubes must not be cut bit by bit (found by the oracle: this pair
    /// ran out of search steps).
    @Test func aDroppedOrderingConditionWidensBelowIt() throws {
        let r = try syscallDiff(identity("allow syscall dup2(arg0 != 6, arg1 in [0, 7], arg0 > 2)"),
                                identity("allow syscall dup2(arg0 != 6, arg1 in [0, 7])"))
        #expect(r.verdict == .wider)
        let vectors: [[UInt64]] = r.widen.compactMap { probe($0)?.1 }
        #expect(vectors.contains { $0.allSatisfy { $0 == 0 } })
    }

    /// A rule another one subsumes still gets a witness naming it.
    @Test func aSubsumedRuleIsNamedByAWitness() throws {
        let r = try syscallDiff(identity("allow syscall flock(arg1 & 7 == 7)", "allow syscall flock"), identity())
        let named = Set(r.narrow.flatMap { $0.old.rules.map(\.rule) })
        #expect(named.contains("allow syscall flock(arg1 & 7 == 7)"))
        #expect(named.contains("allow syscall flock"))
    }

    @Test func aNewSyscallWidensWithNoArguments() throws {
        let r = try syscallDiff(identity("allow syscall read"), identity("allow syscall read, ptrace"))
        #expect(r.verdict == .wider)
        #expect(r.widen.count == 1)
        let w = try #require(r.widen.first)
        #expect(probe(w)?.0 == "ptrace" && probe(w)?.1 == [])
        #expect(w.explainArguments == ["--syscall", "ptrace"])
        #expect(w.new.rules.map(\.line) == [3] && w.old.rules.isEmpty)
        #expect(w.note?.contains("x86_64") == true)
        #expect(r.narrow.isEmpty)
    }

    @Test func aRemovedDenyWidensAndNamesTheOldDeny() throws {
        let old = identity("allow syscall personality", "deny syscall personality")
        let r = try syscallDiff(old, identity("allow syscall personality"))
        #expect(r.verdict == .wider)
        let w = try #require(r.widen.first)
        #expect(r.widen.count == 1 && probe(w)?.0 == "personality")
        #expect(w.old.rules.map(\.line) == [4] && w.old.effect == .deny)
        #expect(w.new.rules.map(\.line) == [3])
        // And back: the same difference is a narrowing.
        let back = try syscallDiff(identity("allow syscall personality"), old)
        #expect(back.verdict == .narrower && back.narrow.count == 1 && back.widen.isEmpty)
    }

    @Test func anIoctlRequestAddedToTheListWidensOnlyThatRequest() throws {
        let old = identity("allow syscall ioctl(request == TIOCGWINSZ)")
        let new = identity("allow syscall ioctl(request in [TIOCGWINSZ, FIONREAD])")
        let r = try syscallDiff(old, new)
        #expect(r.verdict == .wider)
        let fionread = try #require(NamedConstants.value(of: "FIONREAD"))
        #expect(r.widen.compactMap(probe).map(\.1) == [[0, fionread]])
        #expect(r.widen.first?.old.isDefaultDeny == true)
        let back = try syscallDiff(new, old)
        #expect(back.verdict == .narrower && back.narrow.compactMap(probe).map(\.1) == [[0, fionread]])
    }

    @Test func aRaisedBoundWidensAtTheOldBound() throws {
        let r = try syscallDiff(identity("allow syscall socket(domain < 10)"), identity("allow syscall socket(domain < 20)"))
        #expect(r.widen.compactMap(probe).map(\.1) == [[10]])
        #expect(r.narrow.isEmpty)
    }

    @Test func droppedMaskBitsWidenTheValuesThoseBitsExcluded() throws {
        let r = try syscallDiff(identity("allow syscall socket(type & 0xff == 1)"), identity("allow syscall socket(type & 0xf == 1)"))
        #expect(r.widen.compactMap(probe).map(\.1) == [[0, 0x11]])
    }

    @Test func aRemovedConditionWidensTheRestOfTheArgument() throws {
        let r = try syscallDiff(identity("allow syscall socket(domain == AF_UNIX)"), identity("allow syscall socket"))
        #expect(r.widen.compactMap(probe).map(\.1) == [[0]])
        #expect(r.widen.first?.new.effect == .allow && r.widen.first?.old.effect == .deny)
    }

    @Test func anAddedGroupWidensEachMemberOnce() throws {
        let r = try syscallDiff(identity("allow syscall read"), identity("allow syscall read", "allow syscall @network-io"))
        let members = Set((SyscallGroups.expand("@network-io") ?? []).filter(SyscallTable.isKnown))
        #expect(!members.isEmpty)
        let names = r.widen.compactMap(probe).map(\.0)
        #expect(Set(names) == members)
        #expect(names.count == members.count)
        #expect(r.widen.allSatisfy { $0.new.rules.map(\.line) == [4] })
    }

    @Test func anAddedGroupUnderNetworkMediationKeepsTheBuiltInDenies() throws {
        let net = "allow net connect tcp \"10.0.0.1:443\""
        let r = try syscallDiff(identity("allow syscall read", net), identity("allow syscall read", net, "allow syscall @network-io"))
        let byName = Dictionary(grouping: r.widen, by: { probe($0)?.0 ?? "" })
        // The smallest socket the built-ins leave: AF_UNIX (1), any type but raw/packet.
        #expect(byName["socket"]?.compactMap(probe).map(\.1) == [[1, 0, 0]])
        // Every setsockopt witness avoids the built-in source-routing and SO_REUSEPORT denies.
        for w in byName["setsockopt"] ?? [] {
            #expect(w.new.effect == .allow && w.old.isDefaultDeny)
        }
        #expect(byName["connect"]?.count == 1)
    }

    @Test func allowingUnshareWidensCloneByEveryNamespaceFlag() throws {
        let r = try syscallDiff(identity("allow syscall clone"), identity("allow syscall clone, unshare"))
        let clone = r.widen.compactMap(probe).filter { $0.0 == "clone" }.map(\.1)
        let flags = BuiltinSafeguards.namespaceCloneFlags.map(\.value)
        #expect(Set(clone) == Set(flags.map { [$0] }))
        #expect(r.widen.filter { probe($0)?.0 == "clone" }.allSatisfy { $0.old.rules.count == 1 && $0.old.rules[0].file == nil })
        #expect(r.widen.compactMap(probe).contains { $0.0 == "unshare" && $0.1 == [] })
    }

    @Test func anErrnoOnlyChangeIsEquivalent() throws {
        let r = try syscallDiff(identity("allow syscall socket", "deny syscall socket(domain == 16) errno EPERM"),
                                identity("allow syscall socket", "deny syscall socket(domain == 16) errno EAFNOSUPPORT"))
        #expect(r.verdict == .equivalent && r.widen.isEmpty && r.narrow.isEmpty)
    }

    @Test func theUpperHalfOfA32BitArgumentDoesNotCount() throws {
        // persona is 32-bit: `<= 0xffffffff` holds for every value the kernel reads.
        let r = try syscallDiff(identity("allow syscall personality(persona <= 0xffffffff)"), identity("allow syscall personality"))
        #expect(r.verdict == .equivalent)
        // ptrace's request is 64-bit: the same rewrite widens by the upper half.
        let wide = try syscallDiff(identity("allow syscall ptrace(request <= 0xffffffff)"), identity("allow syscall ptrace"))
        #expect(wide.widen.compactMap(probe).map(\.1) == [[0x1_0000_0000]])
    }

    @Test func equivalentRewritesAreEquivalent() throws {
        let one = identity("allow syscall socket(domain in [1, 2])")
        let two = identity("allow syscall socket(domain == 1)", "allow syscall socket(domain == 2)")
        #expect(try syscallDiff(one, two).verdict == .equivalent)
        let range = identity("allow syscall socket(domain >= 1, domain <= 2)")
        #expect(try syscallDiff(one, range).verdict == .equivalent)
        let masked = identity("allow syscall socket(domain & 0xfffffffc == 0)", "deny syscall socket(domain == 0)", "deny syscall socket(domain == 3)")
        #expect(try syscallDiff(one, masked).verdict == .equivalent)
    }

    @Test func aConditionTooLargeToCompareFailsClosed() throws {
        let old = identity("allow syscall mremap(old_size != 1, new_size != 1)")
        #expect(throws: PolicyDiffError.self) { try syscallDiff(old, identity("allow syscall mremap")) }
        do {
            _ = try syscallDiff(old, identity("allow syscall mremap"))
        } catch let error as PolicyDiffError {
            guard case .tooComplex(let who, let domain, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(who == "a" && domain == .syscall)
        }
    }

    @Test func witnessesAreBoundedWithANote() throws {
        var many: [DiffWitness] = []
        let empty = try EffectivePolicy(policy: checked(identity("allow syscall read")), identity: "a")
        for i in 0..<(SyscallDiff.witnessLimit + 5) {
            many.append(DiffWitness(probe: .syscall("ioctl", arguments: [0, UInt64(i)]), old: empty, new: empty))
        }
        let kept = SyscallDiff.bounded(many)
        #expect(kept.count == SyscallDiff.witnessLimit)
        #expect(kept.last?.note?.contains("5 more") == true)
    }
}
