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

    @Test func needsMoreAtEveryEarlierSplit() {
        for end in 0..<Self.commandsLength {
            #expect(parseReceivePackCommands(Array(Self.body[..<end]), limit: 65536) == .needMore, "end \(end)")
        }
        #expect(parseReceivePackCommands(Array(Self.body[..<Self.commandsLength]), limit: 65536) == .commands(Self.expected, consumed: Self.commandsLength))
    }

    @Test func sha256ObjectIDs() {
        let a = String(repeating: "1", count: 64)
        let body = pkt(bytes("\(String(repeating: "0", count: 64)) \(a) refs/heads/main") + [0] + bytes("object-format=sha256\n")) + bytes("0000")
        #expect(parseReceivePackCommands(body, limit: 4096) == .commands([RefUpdate(old: String(repeating: "0", count: 64), new: a, ref: "refs/heads/main")], consumed: body.count))
    }

    @Test func theAuthenticationProbeHasNoCommands() {
        #expect(parseReceivePackCommands(bytes("0000"), limit: 4096) == .commands([], consumed: 4))
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
