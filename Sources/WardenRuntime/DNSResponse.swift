/// The upstream resolver's responses, reduced to what the agent asked: the answer records
/// of the question's name and type, following a CNAME chain. Every record kept is parsed
/// into its fields and written again by Warden (names decompressed, lengths recomputed);
/// records of other types, classes or owners, and the authority and additional sections,
/// never reach the agent.

/// One resource record of a type the resolver serves, parsed.
struct DNSRecord: Equatable, Sendable {
    var name: DNSName
    var type: UInt16
    var ttl: UInt32
    var data: DNSRecordData

    /// The address of an A or AAAA record.
    var address: [UInt8]? {
        switch data {
        case .address(let bytes): return bytes
        default: return nil
        }
    }

    func write(_ w: inout DNSWriter) {
        w.name(name, compress: true)
        w.u16(type); w.u16(DNSType.classIN); w.u32(ttl)
        let lengthAt = w.bytes.count
        w.u16(0)
        switch data {
        case .address(let bytes): w.append(bytes)
        case .name(let target): w.name(target, compress: false)
        case .mx(let preference, let exchange): w.u16(preference); w.name(exchange, compress: false)
        case .srv(let priority, let weight, let port, let target):
            w.u16(priority); w.u16(weight); w.u16(port); w.name(target, compress: false)
        case .svcb(let priority, let target, let params): w.u16(priority); w.name(target, compress: false); w.append(params)
        case .txt(let strings): for s in strings { w.u8(UInt8(s.count)); w.append(s) }
        }
        w.set16(at: lengthAt, UInt16(w.bytes.count - lengthAt - 2))
    }
}

/// The data of a served record type.
enum DNSRecordData: Equatable, Sendable {
    /// A (4 bytes) or AAAA (16 bytes).
    case address([UInt8])
    /// CNAME or PTR.
    case name(DNSName)
    case mx(preference: UInt16, exchange: DNSName)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    /// SVCB or HTTPS: the parameters are checked to be well-framed key/length/value items.
    case svcb(priority: UInt16, target: DNSName, params: [UInt8])
    /// TXT: its character strings.
    case txt([[UInt8]])
}

/// Why an upstream response was not used.
enum DNSResponseError: Error, Equatable, CustomStringConvertible {
    case malformed(DNSWireError)
    case notAResponse
    case wrongID
    case wrongQuestion
    case badRecord(String)

    var description: String {
        switch self {
        case .malformed(let e): return "malformed response: \(e)"
        case .notAResponse: return "not a response to a standard query"
        case .wrongID: return "response to another query (id)"
        case .wrongQuestion: return "response to another question"
        case .badRecord(let m): return "malformed record: \(m)"
        }
    }
}

/// An upstream response that answers Warden's query.
struct DNSResponse: Equatable, Sendable {
    var rcode: UInt8
    var truncated: Bool
    /// The records for the question, in chain order: CNAMEs from the question's name on,
    /// then the records of the question's type owned by the chain's last name.
    var answers: [DNSRecord]

    /// At most this many records are kept (the rest of a longer answer is dropped).
    static let maxAnswers = 64
    /// At most this many CNAMEs are followed.
    static let maxChain = 8

    /// Parses `bytes` as the response to query `id` for `question`.
    static func parse(_ bytes: [UInt8], id: UInt16, question: DNSQuestion) throws(DNSResponseError) -> DNSResponse {
        var steps = 0
        return try parse(bytes, id: id, question: question, steps: &steps)
    }

    /// `steps`: the reader's work (labels and pointers followed), for the fuzz test's bound.
    static func parse(_ bytes: [UInt8], id: UInt16, question: DNSQuestion, steps: inout Int) throws(DNSResponseError) -> DNSResponse {
        var r = DNSReader(bytes)
        defer { steps = r.steps }
        do {
            let got = try r.u16()
            let flags = try r.u16()
            let qd = try r.u16(), an = try r.u16()
            _ = try r.u16(); _ = try r.u16()
            guard flags & 0x8000 != 0, (flags >> 11) & 0xF == 0 else { throw DNSResponseError.notAResponse }
            guard got == id else { throw DNSResponseError.wrongID }
            guard qd == 1 else { throw DNSResponseError.wrongQuestion }
            let echoed = DNSQuestion(name: try r.name(compressed: true), type: try r.u16(), qclass: try r.u16())
            guard echoed.matches(question) else { throw DNSResponseError.wrongQuestion }
            let truncated = flags & 0x0200 != 0
            var records: [DNSRecord] = []
            for _ in 0..<an {
                // A truncated response may end inside the answer section: keep what is whole.
                if truncated && r.remaining == 0 { break }
                if let record = try readRecord(&r) { records.append(record) }
            }
            return DNSResponse(rcode: UInt8(flags & 0xF), truncated: truncated,
                               answers: chain(records, for: question))
        } catch let e as DNSResponseError {
            throw e
        } catch let e as DNSWireError {
            throw .malformed(e)
        } catch {
            throw .badRecord("\(error)")
        }
    }

    /// One answer record; nil for a class or type the resolver does not pass on (skipped).
    static func readRecord(_ r: inout DNSReader) throws -> DNSRecord? {
        let name = try r.name(compressed: true)
        let type = try r.u16(), rclass = try r.u16(), ttl = try r.u32()
        let length = Int(try r.u16())
        guard r.remaining >= length else { throw DNSWireError.truncated }
        let end = r.offset + length
        guard rclass == DNSType.classIN, DNSType.served.contains(type) else {
            _ = try r.take(length)
            return nil
        }
        let data: DNSRecordData
        switch type {
        case DNSType.a, DNSType.aaaa:
            guard length == (type == DNSType.a ? 4 : 16) else { throw DNSResponseError.badRecord("address of \(length) bytes") }
            data = .address(try r.take(length))
        case DNSType.cname, DNSType.ptr:
            data = .name(try r.name(compressed: true))
        case DNSType.mx:
            data = .mx(preference: try r.u16(), exchange: try r.name(compressed: true))
        case DNSType.srv:
            data = .srv(priority: try r.u16(), weight: try r.u16(), port: try r.u16(), target: try r.name(compressed: true))
        case DNSType.svcb, DNSType.https:
            let priority = try r.u16()
            let target = try r.name(compressed: false) // RFC 9460: never compressed
            guard r.offset <= end else { throw DNSResponseError.badRecord("SVCB target overruns its data") }
            let params = try r.take(end - r.offset)
            var p = DNSReader(params)
            while p.remaining > 0 { _ = try p.u16(); _ = try p.take(Int(try p.u16())) }
            data = .svcb(priority: priority, target: target, params: params)
        default: // TXT
            var strings: [[UInt8]] = []
            while r.offset < end { strings.append(try r.take(Int(try r.u8()))) }
            data = .txt(strings)
        }
        guard r.offset == end else { throw DNSResponseError.badRecord("\(DNSType.name(type)) data of \(length) bytes does not match its fields") }
        // RFC 2181 §8: a TTL with the top bit set is read as zero.
        return DNSRecord(name: name, type: type, ttl: ttl & 0x8000_0000 == 0 ? ttl : 0, data: data)
    }

    /// The records that answer `question`: the CNAME chain from its name (each CNAME once,
    /// at most `maxChain`), then the records of its type owned by the chain's end.
    static func chain(_ records: [DNSRecord], for question: DNSQuestion) -> [DNSRecord] {
        var out: [DNSRecord] = []
        var owner = question.name
        var seen: Set<[[UInt8]]> = [owner.folded]
        if question.type != DNSType.cname {
            for _ in 0..<maxChain {
                guard let cname = records.first(where: { $0.type == DNSType.cname && $0.name.sameName(as: owner) }),
                      case .name(let target) = cname.data, seen.insert(target.folded).inserted else { break }
                out.append(cname)
                owner = target
            }
        }
        for record in records where record.type == question.type && record.name.sameName(as: owner) {
            guard out.count < maxAnswers else { break }
            out.append(record)
        }
        return out
    }
}
