import Testing
@testable import WardenBrokerProtocol

/// One pkt-line holding `payload`.
func pkt(_ payload: String) -> [UInt8] { pkt(bytes(payload)) }

func pkt(_ payload: [UInt8]) -> [UInt8] {
    let length = String(payload.count + 4, radix: 16)
    return bytes(String(repeating: "0", count: 4 - length.count) + length) + payload
}

let zeros = String(repeating: "0", count: 40)
let oidA = String(repeating: "a", count: 40)
let oidB = String(repeating: "b", count: 40)

@Suite struct ReceivePackTests {
    static let body = pkt("shallow \(oidA)\n")
        + pkt(bytes("\(oidA) \(oidB) refs/heads/agent/x") + [0] + bytes(" report-status side-band-64k push-options object-format=sha1 agent=git/2.43\n"))
        + pkt("\(zeros) \(oidA) refs/heads/agent/new\n")
        + pkt("\(oidB) \(zeros) refs/tags/old\n")
        + bytes("0000") + pkt("ci.skip\n") + bytes("0000PACK\u{0}\u{0}\u{0}\u{2}")

    static let expected = [
        RefUpdate(old: oidA, new: oidB, ref: "refs/heads/agent/x"),
        RefUpdate(old: zeros, new: oidA, ref: "refs/heads/agent/new"),
        RefUpdate(old: oidB, new: zeros, ref: "refs/tags/old"),
    ]

    static var commandsLength: Int { body.count - (pkt("ci.skip\n").count + 4 + 8) }

    @Test func parsesTheCommandList() {
        #expect(parseReceivePackCommands(Self.body, limit: 65536) == .commands(Self.expected, consumed: Self.commandsLength))
        #expect(Self.expected[2].isDeletion)
        #expect(Self.expected[1].isCreation)
        #expect(!Self.expected[0].isDeletion && !Self.expected[0].isCreation)
    }

    /// Until the pack signature is in: the commands, the push options and their flush are
    /// not enough, because what follows them must be checked.
    @Test func needsMoreAtEveryEarlierSplit() {
        let signatureEnd = Self.body.count - 4
        for end in 0..<signatureEnd {
            #expect(parseReceivePackCommands(Array(Self.body[..<end]), limit: 65536) == .needMore, "end \(end)")
        }
        #expect(parseReceivePackCommands(Array(Self.body[..<signatureEnd]), limit: 65536) == .commands(Self.expected, consumed: Self.commandsLength))
        #expect(parseReceivePackCommands(Array(Self.body[..<(signatureEnd - 1)]), limit: 65536, bodyComplete: true) == .invalid("body ends before the pack"))
        #expect(parseReceivePackCommands(Array(Self.body[..<(Self.commandsLength + 3)]), limit: 65536, bodyComplete: true) == .invalid("body ends inside the push options"))
    }

    @Test func sha256ObjectIDs() {
        let a = String(repeating: "1", count: 64)
        let body = pkt(bytes("\(String(repeating: "0", count: 64)) \(a) refs/heads/main") + [0] + bytes("object-format=sha256\n")) + bytes("0000PACK")
        #expect(parseReceivePackCommands(body, limit: 4096) == .commands([RefUpdate(old: String(repeating: "0", count: 64), new: a, ref: "refs/heads/main")], consumed: body.count - 4))
    }

    @Test func theAuthenticationProbeHasNoCommands() {
        #expect(parseReceivePackCommands(bytes("0000"), limit: 4096, bodyComplete: true) == .commands([], consumed: 4))
        // More may still arrive: not decided until the body is known to end there.
        #expect(parseReceivePackCommands(bytes("0000"), limit: 4096) == .needMore)
        #expect(parseReceivePackCommands(bytes("0000"), limit: 4096, bodyComplete: false) == .needMore)
    }

    static let update = pkt(bytes("\(oidA) \(oidB) refs/heads/agent/x") + [0] + bytes(" report-status\n"))
    static let updateWithOptions = pkt(bytes("\(oidA) \(oidB) refs/heads/agent/x") + [0] + bytes(" report-status push-options\n"))
    static let deletion = pkt(bytes("\(oidA) \(zeros) refs/heads/main") + [0] + bytes(" report-status\n"))

    /// Red team: `0000` followed by more pkt-lines (commands a server would run) went
    /// through undecided. Whatever follows an empty list is refused, in any split.
    @Test(arguments: [
        bytes("0000") + pkt("\(oidA) \(zeros) refs/heads/main\n") + bytes("0000"),
        bytes("0000") + pkt("\(oidA) \(oidB) refs/heads/main\n") + bytes("0000PACK"),
        bytes("0000PACK\u{0}\u{0}\u{0}\u{2}"),
        bytes("00000000"),
        bytes("0000x"),
    ])
    func bytesAfterAnEmptyCommandListAreInvalid(_ body: [UInt8]) {
        for complete in [false, true] {
            guard case .invalid(let why) = parseReceivePackCommands(body, limit: 4096, bodyComplete: complete) else {
                Issue.record("accepted \(String(decoding: body, as: UTF8.self).debugDescription)")
                continue
            }
            #expect(why.contains("empty command list"))
        }
    }

    @Test(arguments: [
        (update + bytes("0000") + pkt("\(oidA) \(zeros) refs/heads/main\n") + bytes("0000PACK"), "after the commands"),
        (update + bytes("0000") + pkt("ci.skip\n") + bytes("0000PACK"), "after the commands"),
        (update + bytes("00000000PACK"), "after the commands"),
        (update + bytes("0000PAC!"), "after the commands"),
        (updateWithOptions + bytes("0000") + pkt("ci.skip\n") + bytes("0000") + pkt("x\n") + bytes("PACK"), "after the push options"),
        (updateWithOptions + bytes("0000") + pkt("ci.skip\n") + bytes("0000XACK"), "after the push options"),
        (updateWithOptions + bytes("0000") + pkt(bytes("a") + [0] + bytes("b\n")) + bytes("0000PACK"), "push option with"),
        (deletion + bytes("0000PACK"), "deletions-only"),
        (deletion + bytes("0000") + pkt("\(oidA) \(oidB) refs/heads/agent/x\n"), "deletions-only"),
    ])
    func onlyPushOptionsAndThePackMayFollowTheCommands(_ body: [UInt8], _ reason: String) {
        for complete in [false, true] {
            guard case .invalid(let why) = parseReceivePackCommands(body, limit: 4096, bodyComplete: complete) else {
                Issue.record("accepted \(String(decoding: body, as: UTF8.self).debugDescription)")
                continue
            }
            #expect(why.contains(reason), "\(why)")
        }
    }

    @Test func whatMayFollowTheCommands() {
        let plain = Self.update + bytes("0000PACK\u{0}\u{0}\u{0}\u{2}")
        #expect(parseReceivePackCommands(plain, limit: 4096) == .commands([RefUpdate(old: oidA, new: oidB, ref: "refs/heads/agent/x")], consumed: Self.update.count + 4))
        let noOptions = Self.updateWithOptions + bytes("00000000PACK")
        #expect(parseReceivePackCommands(noOptions, limit: 4096) == .commands([RefUpdate(old: oidA, new: oidB, ref: "refs/heads/agent/x")], consumed: Self.updateWithOptions.count + 4))
        // Deletions only: no pack; the body ends at the flush (the broker refuses deletions anyway).
        let deleting = Self.deletion + bytes("0000")
        #expect(parseReceivePackCommands(deleting, limit: 4096) == .needMore)
        #expect(parseReceivePackCommands(deleting, limit: 4096, bodyComplete: true) == .commands([RefUpdate(old: oidA, new: zeros, ref: "refs/heads/main")], consumed: deleting.count))
        // A pack that never comes.
        #expect(parseReceivePackCommands(Self.update + bytes("0000"), limit: 4096, bodyComplete: true) == .invalid("body ends before the pack"))
        // The pack signature must come within the limit.
        let options = (0..<100).flatMap { pkt("option-\($0)\n") }
        let long = Self.updateWithOptions + bytes("0000") + options + bytes("0000PACK")
        #expect(parseReceivePackCommands(long, limit: 1024) == .invalid("push command list longer than 1024 bytes"))
        #expect(parseReceivePackCommands(long, limit: 65536) == .commands([RefUpdate(old: oidA, new: oidB, ref: "refs/heads/agent/x")], consumed: Self.updateWithOptions.count + 4))
    }

    @Test func isBounded() {
        let many = (0..<200).flatMap { pkt("\(oidA) \(oidB) refs/heads/agent/branch-\($0)\n") }
        #expect(parseReceivePackCommands(many, limit: 4096) == .invalid("push command list longer than 4096 bytes"))
        #expect(parseReceivePackCommands(Array(many.prefix(5000)), limit: 4096) == .invalid("push command list longer than 4096 bytes"))
        #expect(parseReceivePackCommands(Array(many.prefix(100)), limit: 4096) == .needMore)
    }

    @Test(arguments: [
        ("zzzz", "malformed length"),
        ("0001", "delimiter packet"),
        ("0002", "response-end packet"),
        ("0003", "short length"),
        ("0004", "empty packet"),
        ("fff1", "too long"),
    ])
    func refusesBadPacketLengths(_ prefix: String, _ label: String) {
        guard case .invalid = parseReceivePackCommands(bytes(prefix) + [UInt8](repeating: 0x61, count: 70000), limit: 1 << 20) else {
            Issue.record("accepted \(label)")
            return
        }
    }

    @Test(arguments: [
        "\(String(repeating: "a", count: 39)) \(String(repeating: "b", count: 40)) refs/heads/x",
        "\(String(repeating: "A", count: 40)) \(String(repeating: "b", count: 40)) refs/heads/x",
        "\(String(repeating: "a", count: 40)) \(String(repeating: "b", count: 64)) refs/heads/x",
        "\(String(repeating: "a", count: 40))  \(String(repeating: "b", count: 40)) refs/heads/x",
        "\(String(repeating: "a", count: 40)) \(String(repeating: "b", count: 40))",
        "\(String(repeating: "a", count: 40)) \(String(repeating: "b", count: 40)) heads/x",
        "\(String(repeating: "a", count: 40)) \(String(repeating: "b", count: 40)) refs/heads/a..b",
        "\(String(repeating: "a", count: 40)) \(String(repeating: "b", count: 40)) refs/heads/x y",
        "push-cert\u{0}report-status",
        "shallow xyz",
    ])
    func refusesBadCommands(_ line: String) {
        guard case .invalid = parseReceivePackCommands(pkt(line + "\n") + bytes("0000"), limit: 4096) else {
            Issue.record("accepted \(line.debugDescription)")
            return
        }
    }

    @Test func capabilitiesOnlyOnTheFirstCommand() {
        let body = pkt("\(oidA) \(oidB) refs/heads/a\n") + pkt(bytes("\(oidA) \(oidB) refs/heads/b") + [0] + bytes("atomic\n")) + bytes("0000")
        guard case .invalid = parseReceivePackCommands(body, limit: 4096) else {
            Issue.record("accepted capabilities on a later command")
            return
        }
    }

    @Test(arguments: [
        "refs/heads/main", "refs/heads/agent/x-1", "refs/tags/v1.2.3", "refs/heads/a.b", "refs/heads/@", "refs/heads/a@b",
    ])
    func acceptsRefNames(_ ref: String) {
        #expect(RefNames.problem(with: ref) == nil)
    }

    @Test(arguments: [
        "main", "refs/", "refs/heads/", "refs//x", "refs/heads/a..b", "refs/heads/.hidden", "refs/heads/x.lock",
        "refs/heads/x.", "refs/heads/a@{1}", "refs/heads/a b", "refs/heads/a~1", "refs/heads/a^", "refs/heads/a:b",
        "refs/heads/a?", "refs/heads/a*", "refs/heads/a[", "refs/heads/a\\b", "refs/heads/a\u{7F}", "refs/heads/a\u{1}",
        "refs/heads/caf\u{E9}", "refs/heads/x/../y",
    ])
    func refusesRefNames(_ ref: String) {
        #expect(RefNames.problem(with: ref) != nil, "\(ref.debugDescription)")
    }
}
