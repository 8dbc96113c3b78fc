/// The DNS messages Warden's resolver reads and writes: the agent's queries (parsed
/// strictly), the upstream's responses (parsed and reduced to the records the question
/// asked for), and the messages Warden builds itself (its upstream queries and every
/// answer the agent gets). No byte the agent or the upstream sent is passed on unparsed.

/// Response codes Warden's resolver answers with.
enum DNSRcode: UInt8, Sendable {
    case noError = 0, formErr = 1, servFail = 2, nxDomain = 3, notImp = 4, refused = 5
}

/// Record types (RFC 1035, 3596, 2782, 9460).
enum DNSType {
    static let a: UInt16 = 1, cname: UInt16 = 5, ptr: UInt16 = 12, mx: UInt16 = 15, txt: UInt16 = 16
    static let aaaa: UInt16 = 28, srv: UInt16 = 33, opt: UInt16 = 41, svcb: UInt16 = 64, https: UInt16 = 65

    /// The question types the resolver serves: what stub resolvers and clients ask. Zone
    /// transfers, ANY, NULL, NS, SOA and the rest are refused.
    static let served: Set<UInt16> = [a, aaaa, cname, ptr, mx, txt, srv, svcb, https]

    static let classIN: UInt16 = 1

    static func name(_ t: UInt16) -> String {
        switch t {
        case a: return "A"
        case cname: return "CNAME"
        case ptr: return "PTR"
        case mx: return "MX"
        case txt: return "TXT"
        case aaaa: return "AAAA"
        case srv: return "SRV"
        case svcb: return "SVCB"
        case https: return "HTTPS"
        default: return "TYPE\(t)"
        }
    }
}

/// One question: name, type and class.
struct DNSQuestion: Equatable, Sendable {
    var name: DNSName
    var type: UInt16
    var qclass: UInt16 = DNSType.classIN

    /// Same question, ignoring the case of the name.
    func matches(_ other: DNSQuestion) -> Bool {
        type == other.type && qclass == other.qclass && name.sameName(as: other.name)
    }
}

/// A standard query the resolver accepted: opcode QUERY, one question of class IN for a
/// hostname and a served type, no records but at most one EDNS0 OPT (whose options are
/// dropped: only the client's UDP payload size is kept).
struct DNSQuery: Equatable, Sendable {
    var id: UInt16
    var recursionDesired: Bool
    var question: DNSQuestion
    /// The UDP payload size of the client's OPT record; nil without EDNS0.
    var ednsPayloadSize: UInt16?

    /// The largest UDP answer the client takes (RFC 1035: 512; EDNS0: its size, at most 1232).
    var udpLimit: Int { ednsPayloadSize.map { min(max(Int($0), 512), DNSQuery.ednsSize) } ?? 512 }

    /// The UDP payload size Warden advertises (the DNS flag day 2020 value).
    static let ednsSize = 1232

    /// The wire form: the header, the question, the OPT if any (no options).
    func encoded() -> [UInt8] {
        var w = DNSWriter()
        w.u16(id)
        w.u8(recursionDesired ? 0x01 : 0x00)
        w.u8(0)
        w.u16(1); w.u16(0); w.u16(0); w.u16(ednsPayloadSize == nil ? 0 : 1)
        w.name(question.name, compress: false)
        w.u16(question.type); w.u16(question.qclass)
        if let size = ednsPayloadSize { DNSMessage.writeOPT(&w, payloadSize: size) }
        return w.bytes
    }
}

/// What to do with bytes sent to the resolver.
enum DNSQueryVerdict: Sendable {
    /// A standard query for a hostname: decide its name.
    case accept(DNSQuery)
    /// Answer with an error code, recorded as a refusal.
    case refuse(DNSRefusal)
    /// Not answerable (no complete header, or a response): dropped, recorded as a refusal.
    case ignore(reason: String)
}

/// A query answered with an error code without looking anything up.
struct DNSRefusal: Sendable {
    var id: UInt16
    var recursionDesired: Bool
    var rcode: DNSRcode
    /// Echoed in the answer (only a question that parsed completely).
    var question: DNSQuestion?
    /// The name as parsed, for the audit record (nil when no name could be read).
    var name: DNSName?
    var reason: String
    var edns: Bool
}

enum DNSMessage {
    static let headerSize = 12

    /// Classifies `packet`, which claims to be a query. Strict: any deviation from a
    /// standard query is refused, and only a parsed question is ever looked up.
    static func parseQuery(_ packet: [UInt8]) -> DNSQueryVerdict {
        guard packet.count >= headerSize else { return .ignore(reason: "shorter than a DNS header (\(packet.count) bytes)") }
        func field(_ at: Int) -> UInt16 { UInt16(packet[at]) << 8 | UInt16(packet[at + 1]) }
        let (id, flags) = (field(0), field(2))
        let (qd, an, ns, ar) = (field(4), field(6), field(8), field(10))
        var r = DNSReader(packet, at: headerSize)
        let rd = flags & 0x0100 != 0
        if flags & 0x8000 != 0 { return .ignore(reason: "a response, not a query") }

        // The first question's name, for the record, even when the query is refused.
        var probe = r
        var firstName: DNSName?
        if qd > 0 { firstName = try? probe.name(compressed: false) }
        func refuse(_ rcode: DNSRcode, _ reason: String, echo: DNSQuestion? = nil, edns: Bool = false) -> DNSQueryVerdict {
            .refuse(DNSRefusal(id: id, recursionDesired: rd, rcode: rcode, question: echo, name: echo?.name ?? firstName,
                               reason: reason, edns: edns))
        }

        let opcode = (flags >> 11) & 0xF
        if opcode != 0 { return refuse(.notImp, "opcode \(opcodeName(opcode)), only QUERY is served") }
        if flags & 0x0200 != 0 { return refuse(.formErr, "TC set in a query") }
        if flags & 0x000F != 0 { return refuse(.formErr, "response code set in a query") }
        guard qd == 1 else { return refuse(.formErr, "\(qd) questions, a query has exactly one") }
        guard an == 0, ns == 0 else { return refuse(.formErr, "records in the answer or authority section of a query") }
        guard ar <= 1 else { return refuse(.formErr, "\(ar) additional records, at most one OPT is taken") }

        let question: DNSQuestion
        do {
            let name = try r.name(compressed: false)
            question = DNSQuestion(name: name, type: try r.u16(), qclass: try r.u16())
        } catch {
            return refuse(.formErr, "question: \(error)")
        }
        var edns: UInt16?
        if ar == 1 {
            switch Result(catching: { () throws(DNSWireError) in try readOPT(&r) }) {
            case .failure(let e): return refuse(.formErr, "additional section: \(e)")
            case .success(.notOPT): return refuse(.formErr, "an additional record other than one EDNS0 OPT")
            case .success(.badVersion(let v)): return refuse(.formErr, "EDNS version \(v), only 0")
            case .success(.payload(let size)): edns = size
            }
        }
        guard r.remaining == 0 else { return refuse(.formErr, "\(r.remaining) bytes after the message") }

        let hasEDNS = edns != nil
        guard question.qclass == DNSType.classIN else {
            return refuse(.refused, "class \(question.qclass), only IN is served", echo: question, edns: hasEDNS)
        }
        guard DNSType.served.contains(question.type) else {
            return refuse(.refused, "type \(DNSType.name(question.type)) is not served", echo: question, edns: hasEDNS)
        }
        guard question.name.isHostname else {
            return refuse(.refused, "not a hostname (a label holds a dot, a NUL or a byte hostnames do not use)",
                          echo: question, edns: hasEDNS)
        }
        return .accept(DNSQuery(id: id, recursionDesired: rd, question: question, ednsPayloadSize: edns))
    }

    enum OPTRecord { case payload(UInt16), notOPT, badVersion(UInt8) }

    /// The additional record at the reader, if it is an OPT (RFC 6891) of EDNS version 0:
    /// its UDP payload size. Options are skipped, never kept.
    static func readOPT(_ r: inout DNSReader) throws(DNSWireError) -> OPTRecord {
        let owner = try r.name(compressed: false)
        let type = try r.u16()
        let size = try r.u16()
        let ttl = try r.u32()
        let length = try r.u16()
        _ = try r.take(Int(length))
        guard owner.labels.isEmpty, type == DNSType.opt else { return .notOPT }
        let version = UInt8((ttl >> 16) & 0xFF)
        return version == 0 ? .payload(size) : .badVersion(version)
    }

    static func opcodeName(_ op: UInt16) -> String {
        switch op {
        case 1: return "IQUERY (1)"
        case 2: return "STATUS (2)"
        case 4: return "NOTIFY (4)"
        case 5: return "UPDATE (5)"
        default: return "\(op)"
        }
    }

    static func writeOPT(_ w: inout DNSWriter, payloadSize: UInt16) {
        w.u8(0)                      // root owner
        w.u16(DNSType.opt)
        w.u16(payloadSize)
        w.u32(0)                     // extended rcode 0, version 0, no DO
        w.u16(0)                     // no options
    }

    /// The answer Warden sends the agent: the query's id and RD, RA set, `rcode`, the
    /// question echoed when known, `answers`, and an OPT when the query had one. When it
    /// exceeds `limit` (UDP), the answer records are dropped and TC set, so the client
    /// asks again over TCP.
    static func reply(id: UInt16, recursionDesired: Bool, rcode: DNSRcode, question: DNSQuestion?,
                      answers: [DNSRecord] = [], edns: Bool, limit: Int) -> [UInt8] {
        func build(_ records: [DNSRecord], truncated: Bool) -> [UInt8] {
            var w = DNSWriter()
            w.u16(id)
            w.u8(0x80 | (truncated ? 0x02 : 0) | (recursionDesired ? 0x01 : 0))
            w.u8(0x80 | rcode.rawValue)
            w.u16(question == nil ? 0 : 1); w.u16(UInt16(records.count)); w.u16(0); w.u16(edns ? 1 : 0)
            if let question {
                w.name(question.name, compress: false)
                w.u16(question.type); w.u16(question.qclass)
            }
            for record in records { record.write(&w) }
            if edns { writeOPT(&w, payloadSize: UInt16(DNSQuery.ednsSize)) }
            return w.bytes
        }
        let full = build(answers, truncated: false)
        return full.count <= limit ? full : build([], truncated: true)
    }
}
