import Testing
import WardenPolicy
@testable import WardenRuntime
import WardenTestSupport

/// Mutates DNS packets the way an attacker or a broken server would: bit flips, random
/// bytes, cuts, insertions, random counts and compression pointers.
struct DNSMutator {
    var rng: SeededRandom

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func byte() -> UInt8 { UInt8.random(in: 0...255, using: &rng) }

    mutating func mutate(_ packet: [UInt8]) -> [UInt8] {
        var p = packet
        for _ in 0..<int(1..<4) {
            switch int(0..<8) {
            case 0 where !p.isEmpty: p[int(0..<p.count)] ^= UInt8(1) << UInt8(int(0..<8))
            case 1 where !p.isEmpty: p[int(0..<p.count)] = byte()
            case 2: p = Array(p.prefix(int(0..<(p.count + 1))))
            case 3: p.insert(contentsOf: (0..<int(1..<8)).map { _ in byte() }, at: int(0..<(p.count + 1)))
            case 4 where p.count >= 12: p[4 + 2 * int(0..<4) + 1] = UInt8(int(0..<4)) // a count
            case 5 where p.count >= 14: // a compression pointer somewhere
                let at = int(12..<(p.count - 1))
                p[at] = 0xC0 | UInt8(int(0..<2)); p[at + 1] = byte()
            case 6 where p.count >= 4: p[2] = byte(); p[3] = byte() // flags
            default: p += (0..<int(1..<16)).map { _ in byte() }
            }
        }
        return p
    }

    mutating func randomBytes() -> [UInt8] { (0..<int(0..<80)).map { _ in byte() } }
}

@Suite("DNS resolver: fuzzing")
struct DNSFuzzTests {
    static let seeds: [[UInt8]] = {
        var withOPT = DNSPacket.query("www.allowed.test", type: 28) + DNSPacket.opt(options: [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8])
        withOPT[11] = 1
        let update = DNSPacket.header(flags: 5 << 11, qd: 1, ns: 1) + DNSPacket.name("allowed.test") + DNSPacket.u16(6) + DNSPacket.u16(1)
            + DNSPacket.record(DNSPacket.name("x.allowed.test"), type: 1, data: [1, 2, 3, 4])
        return [DNSPacket.query("allowed.test"), DNSPacket.query("a.cdn.test", type: 65), withOPT, update,
                DNSPacket.query("_sip._tcp.allowed.test", type: 33)]
    }()

    /// Queries: no crash; whatever is accepted is a hostname question of a served type and
    /// round-trips through Warden's encoding.
    @Test func mutatedAndRandomQueries() {
        var m = DNSMutator(rng: SeededRandom(seed: 0xD15_0001))
        var accepted = 0
        for i in 0..<30_000 {
            let packet = i % 5 == 4 ? m.randomBytes() : m.mutate(Self.seeds[i % Self.seeds.count])
            switch DNSMessage.parseQuery(packet) {
            case .accept(let q):
                accepted += 1
                #expect(q.question.name.isHostname && DNSType.served.contains(q.question.type) && q.question.qclass == 1)
                guard case .accept(let again) = DNSMessage.parseQuery(q.encoded()), again == q else {
                    Issue.record("accepted query does not round-trip: \(packet)"); return
                }
            case .refuse(let r):
                // The refusal's answer is itself well-formed: the id, QR, and at most the echo.
                let reply = DNSMessage.reply(id: r.id, recursionDesired: r.recursionDesired, rcode: r.rcode,
                                             question: r.question, edns: r.edns, limit: 512)
                #expect(reply.count >= 12 && reply[2] & 0x80 != 0 && reply[3] & 0x0F == r.rcode.rawValue)
                #expect(r.name?.text.unicodeScalars.allSatisfy { $0.value >= 0x21 && $0.value < 0x7F } ?? true)
            case .ignore:
                #expect(packet.count < 12 || packet[2] & 0x80 != 0)
            }
        }
        #expect(accepted > 100) // the mutations keep some queries valid, so round trips are exercised
    }

    /// The responder: only hostname questions of served types ever reach the upstream.
    @Test func nothingButParsedQuestionsReachTheUpstream() throws {
        let upstream = FakeUpstream(["allowed.test": [aRecord("allowed.test", [127, 0, 0, 3])]])
        let r = try responder(upstream)
        var m = DNSMutator(rng: SeededRandom(seed: 0xD15_0002))
        for i in 0..<5_000 {
            let packet = m.mutate(Self.seeds[i % Self.seeds.count])
            let (reply, _) = r.answer(packet, overTCP: i % 2 == 0)
            if let reply { #expect(reply.count >= 12 && reply[0] == packet[0] && reply[1] == packet[1] && reply[2] & 0x80 != 0) }
        }
        let asked = upstream.questions
        #expect(!asked.isEmpty)
        #expect(asked.allSatisfy { $0.name.isHostname && DNSType.served.contains($0.type) && $0.qclass == 1 })
    }

    /// Upstream responses: no crash, work linear in the size (a name behind pointers is
    /// re-read: at most 128 labels and 16 pointers each), and accepted answers survive Warden's re-encoding.
    @Test func mutatedResponses() {
        let q = DNSQuestion(name: DNSName("www.allowed.test"), type: 1)
        var answers = DNSPacket.record([0xC0, 12], type: 5, data: DNSPacket.name("edge.cdn.example"))
        answers += DNSPacket.record([0xC0, 46], type: 1, data: [192, 0, 2, 1])
        answers += DNSPacket.record([0xC0, 46], type: 1, data: [192, 0, 2, 2])
        answers += DNSPacket.record([0xC0, 12], type: 16, data: [2, 0x68, 0x69])
        let seeds = [DNSPacket.response(name: "www.allowed.test", count: 4, answers: answers),
                     DNSPacket.response(name: "www.allowed.test", rcode: 3, count: 0, answers: [])]
        var m = DNSMutator(rng: SeededRandom(seed: 0xD15_0003))
        var accepted = 0
        for i in 0..<30_000 {
            let packet = m.mutate(seeds[i % seeds.count])
            var steps = 0
            let parsed = try? DNSResponse.parse(packet, id: 0x1234, question: q, steps: &steps)
            #expect(steps <= 130 * packet.count + 2, "\(steps) steps for \(packet.count) bytes")
            guard let parsed else { continue }
            accepted += 1
            #expect(parsed.answers.count <= DNSResponse.maxAnswers)
            let rebuilt = DNSMessage.reply(id: 9, recursionDesired: true, rcode: .noError, question: q, answers: parsed.answers,
                                           edns: true, limit: 65535)
            #expect((try? DNSResponse.parse(rebuilt, id: 9, question: q))?.answers == parsed.answers)
        }
        #expect(accepted > 100)
    }

    /// The worst case for decompression: every record's name points at a 127-label name.
    @Test func pointerChainsCostAtMostOneStepPerLabel() throws {
        var long: [UInt8] = []
        for _ in 0..<127 { long += [1, 0x61] }
        long.append(0)
        // The long name in the question's place cannot match; put it in a TXT answer instead.
        var answers = DNSPacket.record([0xC0, 12], type: 16, data: [1, 0x61])
        let longAt = 12 + DNSPacket.name("allowed.test").count + 4 + answers.count + 12
        answers += DNSPacket.record([0xC0, 12], type: 5, data: long)
        for _ in 0..<2000 { answers += DNSPacket.record([0xC0 | UInt8(longAt >> 8), UInt8(longAt & 0xFF)], type: 1, data: [1, 2, 3, 4]) }
        let packet = DNSPacket.response(name: "allowed.test", count: 2002, answers: answers)
        var steps = 0
        let parsed = try DNSResponse.parse(packet, id: 0x1234, question: DNSQuestion(name: DNSName("allowed.test"), type: 1), steps: &steps)
        #expect(steps <= 130 * packet.count)
        #expect(parsed.answers.count == DNSResponse.maxAnswers) // the CNAME then A records, capped
    }
}
