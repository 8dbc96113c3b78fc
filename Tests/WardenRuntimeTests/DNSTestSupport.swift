import Synchronization
import Testing
import WardenCompiler
import WardenPolicy
@testable import WardenRuntime

/// Raw DNS packets for the resolver's tests, written byte by byte (not with the code under test).
enum DNSPacket {
    /// A header: id 0x1234, `flags`, and the four counts.
    static func header(flags: UInt16 = 0x0100, qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
        [0x12, 0x34, UInt8(flags >> 8), UInt8(flags & 0xFF)] + [qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static func name(_ labels: [[UInt8]]) -> [UInt8] {
        labels.flatMap { [UInt8($0.count)] + $0 } + [0]
    }

    static func name(_ text: String) -> [UInt8] { name(text.split(separator: ".").map { Array($0.utf8) }) }

    /// A query for `name` (type A, class IN unless told), RD set.
    static func query(_ name: String, type: UInt16 = 1, qclass: UInt16 = 1) -> [UInt8] {
        header() + Self.name(name) + u16(type) + u16(qclass)
    }

    static func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }

    /// An EDNS0 OPT record with UDP size `size`, version `version`, and `options` bytes.
    static func opt(size: UInt16 = 1232, version: UInt8 = 0, options: [UInt8] = []) -> [UInt8] {
        [0] + u16(41) + u16(size) + [0, version, 0, 0] + u16(UInt16(options.count)) + options
    }

    /// A record with owner `owner` (raw name bytes), type, TTL 60 and `data`.
    static func record(_ owner: [UInt8], type: UInt16, qclass: UInt16 = 1, data: [UInt8]) -> [UInt8] {
        owner + u16(type) + u16(qclass) + [0, 0, 0, 60] + u16(UInt16(data.count)) + data
    }

    /// A response to query id `id` for `name`/`type`, with `answers` records already encoded.
    static func response(id: UInt16 = 0x1234, name: String, type: UInt16 = 1, rcode: UInt8 = 0, tc: Bool = false,
                         count: Int, answers: [UInt8]) -> [UInt8] {
        var h = header(flags: 0x8180 | (tc ? 0x0200 : 0) | UInt16(rcode), an: UInt16(count))
        h[0] = UInt8(id >> 8); h[1] = UInt8(id & 0xFF)
        return h + Self.name(name) + u16(type) + u16(1) + answers
    }
}

/// An effective policy that allows `allowed.test`, `*.allowed.test` and `*.cdn.test`.
func dnsTestPolicy() throws -> EffectivePolicy {
    let text = """
    warden 1
    identity agent {
      allow net connect tcp "allowed.test:443", "*.allowed.test:443", "*.cdn.test:443"
    }
    """
    let analysis = try PolicyLoader(provider: InMemorySourceProvider(["/p.warden": text])).analyze("/p.warden")
    #expect(!analysis.hasErrors, "\(analysis.diagnostics.map(\.message))")
    return try EffectivePolicy(policy: analysis.policy, identity: "agent")
}

/// An upstream stand-in that records the questions it was asked and answers from a table.
final class FakeUpstream: Sendable {
    let asked = Mutex<[DNSQuestion]>([])
    let table: [String: [DNSRecord]]

    init(_ table: [String: [DNSRecord]]) { self.table = table }

    func resolve(_ q: DNSQuestion) -> Result<DNSResponse, DNSUpstream.Failure> {
        asked.withLock { $0.append(q) }
        guard let records = table[q.name.text] else { return .success(DNSResponse(rcode: 3, truncated: false, answers: [])) }
        return .success(DNSResponse(rcode: 0, truncated: false, answers: records.filter { $0.type == q.type || $0.type == DNSType.cname }))
    }

    var questions: [DNSQuestion] { asked.withLock { $0 } }
}

func aRecord(_ name: String, _ a: [UInt8]) -> DNSRecord {
    DNSRecord(name: DNSName(name), type: DNSType.a, ttl: 60, data: .address(a))
}

func responder(_ upstream: FakeUpstream, names: ResolvedNames = ResolvedNames()) throws -> DNSResponder {
    let policy = try dnsTestPolicy()
    return DNSResponder(decide: { policy.decideLookup($0) }, resolve: { upstream.resolve($0) }, names: names)
}

/// The rcode and flags of an answer.
func rcode(_ reply: [UInt8]?) -> UInt8? { reply.map { $0[3] & 0x0F } }
func isTruncated(_ reply: [UInt8]) -> Bool { reply[2] & 0x02 != 0 }
