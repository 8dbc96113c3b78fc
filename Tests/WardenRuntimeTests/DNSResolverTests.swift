import Testing
import WardenPolicy
@testable import WardenRuntime

/// Warden's resolver answers, never forwards: each attack on the old forwarding resolver
/// (a packet relayed upstream because its question text matched a rule) gets an answer
/// built by Warden, and the upstream is asked nothing or only Warden's own question.
@Suite("DNS resolver: strict queries")
struct DNSQueryTests {
    func refusal(_ packet: [UInt8]) -> DNSRefusal? {
        if case .refuse(let r) = DNSMessage.parseQuery(packet) { return r }
        return nil
    }

    @Test func standardQueryIsAcceptedAndRoundTrips() throws {
        guard case .accept(let q) = DNSMessage.parseQuery(DNSPacket.query("Api.CDN.test", type: 28)) else {
            Issue.record("a standard query was not accepted"); return
        }
        #expect(q.id == 0x1234 && q.recursionDesired && q.ednsPayloadSize == nil)
        #expect(q.question.type == DNSType.aaaa && q.question.name.text == "api.cdn.test")
        guard case .accept(let again) = DNSMessage.parseQuery(q.encoded()) else { Issue.record("no round trip"); return }
        #expect(again == q)
    }

    @Test func updateOpcodeIsNotImplemented() throws {
        // UPDATE (opcode 5): zone allowed.test, one prerequisite and one update record.
        var packet = DNSPacket.header(flags: 5 << 11, qd: 1, an: 1, ns: 1) + DNSPacket.name("allowed.test") + DNSPacket.u16(6) + DNSPacket.u16(1)
        packet += DNSPacket.record(DNSPacket.name("allowed.test"), type: 255, qclass: 255, data: [])
        packet += DNSPacket.record(DNSPacket.name("x.allowed.test"), type: 16, data: [3, 65, 66, 67])
        let r = try #require(refusal(packet))
        #expect(r.rcode == .notImp && r.question == nil)
        #expect(r.name?.text == "allowed.test" && r.reason.contains("UPDATE"))
        for opcode: UInt16 in [1, 2, 4, 15] {
            #expect(refusal(DNSPacket.header(flags: opcode << 11) + DNSPacket.name("allowed.test") + DNSPacket.u16(1) + DNSPacket.u16(1))?.rcode == .notImp)
        }
    }

    @Test func recordsInTheAdditionalSectionAreRefused() throws {
        let base = DNSPacket.query("allowed.test")
        var withA = base + DNSPacket.record(DNSPacket.name("allowed.test"), type: 1, data: [10, 0, 0, 1])
        withA[11] = 1
        #expect(refusal(withA)?.rcode == .formErr)
        // An OPT is taken (its size kept, its options not), but only one, version 0, owned by the root.
        var withOPT = base + DNSPacket.opt(size: 4096, options: [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8])
        withOPT[11] = 1
        guard case .accept(let q) = DNSMessage.parseQuery(withOPT) else { Issue.record("OPT refused"); return }
        #expect(q.ednsPayloadSize == 4096 && q.udpLimit == 1232)
        #expect(q.encoded().count == base.count + 11) // Warden's OPT carries no options
        var twoOPT = base + DNSPacket.opt() + DNSPacket.opt()
        twoOPT[11] = 2
        #expect(refusal(twoOPT)?.rcode == .formErr)
        var version1 = base + DNSPacket.opt(version: 1)
        version1[11] = 1
        #expect(refusal(version1)?.rcode == .formErr)
        var ownedOPT = base + DNSPacket.name("allowed.test") + Array(DNSPacket.opt().dropFirst())
        ownedOPT[11] = 1
        #expect(refusal(ownedOPT)?.rcode == .formErr)
        var answer = base + DNSPacket.record(DNSPacket.name("allowed.test"), type: 1, data: [10, 0, 0, 1])
        answer[7] = 1
        #expect(refusal(answer)?.rcode == .formErr)
        var authority = answer
        authority[7] = 0; authority[9] = 1
        #expect(refusal(authority)?.rcode == .formErr)
    }

    @Test func aLabelHoldingADotMatchesNothing() throws {
        // One label "allowed.test": its text once matched the rule, but the name is a
        // top-level name, not under allowed.test.
        let single = DNSPacket.header() + DNSPacket.name([Array("allowed.test".utf8)]) + DNSPacket.u16(1) + DNSPacket.u16(1)
        let r = try #require(refusal(single))
        #expect(r.rcode == .refused && r.question != nil)
        #expect(r.name?.text == "allowed\\.test")
        let inner = DNSPacket.header() + DNSPacket.name([Array("data".utf8), Array("x.cdn".utf8), Array("test".utf8)])
            + DNSPacket.u16(1) + DNSPacket.u16(1)
        #expect(refusal(inner)?.rcode == .refused)
        #expect(refusal(inner)?.name?.text == "data.x\\.cdn.test")
    }

    @Test func bytesHostnamesDoNotUseAreRefusedAndEscaped() throws {
        let nul = DNSPacket.header() + DNSPacket.name([Array("allowed".utf8) + [0], Array("test".utf8)]) + DNSPacket.u16(1) + DNSPacket.u16(1)
        let r = try #require(refusal(nul))
        #expect(r.rcode == .refused && r.name?.text == "allowed\\000.test")
        let control = DNSPacket.header() + DNSPacket.name([[0x1B, 0x5B, 0x32, 0x4A, 0x07, 0x0A], Array("allowed".utf8), Array("test".utf8)])
            + DNSPacket.u16(1) + DNSPacket.u16(1)
        let text = try #require(refusal(control)?.name?.text)
        #expect(text == "\\027\\0912j\\007\\010.allowed.test")
        #expect(text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F })
        for bad: [UInt8] in [[0x20], [0xC3, 0xA9], [0x2A], [0x5C]] {
            let packet = DNSPacket.header() + DNSPacket.name([Array("a".utf8) + bad, Array("allowed".utf8), Array("test".utf8)])
                + DNSPacket.u16(1) + DNSPacket.u16(1)
            #expect(refusal(packet)?.rcode == .refused, "\(bad)")
        }
        // The root and empty names are not hostnames either.
        #expect(refusal(DNSPacket.header() + [0] + DNSPacket.u16(1) + DNSPacket.u16(1))?.rcode == .refused)
    }

    @Test func compressionPointersInAQueryAreRefused() throws {
        // A pointer to itself (a loop), a pointer into the header, a pointer after a label.
        for name: [UInt8] in [[0xC0, 12], [0xC0, 0], [3, 0x61, 0x62, 0x63, 0xC0, 12], [0xC0, 0xFF]] {
            let r = try #require(refusal(DNSPacket.header() + name + DNSPacket.u16(1) + DNSPacket.u16(1)))
            #expect(r.rcode == .formErr && r.reason.contains("compressed"), "\(name)")
        }
        // Extended label types (0x40, 0x80) are malformed too.
        for first: UInt8 in [0x41, 0x80] {
            #expect(refusal(DNSPacket.header() + [first, 0x61, 0] + DNSPacket.u16(1) + DNSPacket.u16(1))?.rcode == .formErr)
        }
    }

    @Test func truncatedPacketsAreNeverAccepted() {
        var full = DNSPacket.query("www.allowed.test") + DNSPacket.opt()
        full[11] = 1
        guard case .accept = DNSMessage.parseQuery(full) else { Issue.record("full query refused"); return }
        for cut in 0..<full.count {
            switch DNSMessage.parseQuery(Array(full[0..<cut])) {
            case .accept: Issue.record("accepted a query cut at \(cut) bytes")
            case .ignore: #expect(cut < 12)
            case .refuse(let r): #expect(r.rcode == .formErr && cut >= 12)
            }
        }
        // Bytes after the message are not ignored either.
        #expect(refusal(DNSPacket.query("allowed.test") + [0])?.rcode == .formErr)
        // A name longer than 255 bytes.
        let long = (0..<5).map { _ in [UInt8](repeating: 0x61, count: 63) }
        #expect(refusal(DNSPacket.header() + DNSPacket.name(long) + DNSPacket.u16(1) + DNSPacket.u16(1))?.reason.contains("255") == true)
    }

    @Test func exactlyOneQuestion() {
        let zero = DNSPacket.header(qd: 0)
        #expect(refusal(zero)?.rcode == .formErr)
        let two = DNSPacket.header(qd: 2) + DNSPacket.name("allowed.test") + DNSPacket.u16(1) + DNSPacket.u16(1)
            + DNSPacket.name("evil.example") + DNSPacket.u16(1) + DNSPacket.u16(1)
        #expect(refusal(two)?.rcode == .formErr)
    }

    @Test func responsesAndRuntsAreDropped() {
        var response = DNSPacket.query("allowed.test")
        response[2] |= 0x80
        if case .ignore = DNSMessage.parseQuery(response) {} else { Issue.record("a response was answered") }
        if case .ignore = DNSMessage.parseQuery([0x12, 0x34, 1]) {} else { Issue.record("a runt was answered") }
    }

    @Test func onlyServedTypesAndClassIN() throws {
        for type: UInt16 in [1, 28, 5, 12, 15, 16, 33, 64, 65] {
            guard case .accept = DNSMessage.parseQuery(DNSPacket.query("allowed.test", type: type)) else {
                Issue.record("type \(type) refused"); continue
            }
        }
        for type: UInt16 in [255, 252, 251, 10, 2, 6, 0, 99] {
            #expect(refusal(DNSPacket.query("allowed.test", type: type))?.rcode == .refused, "type \(type)")
        }
        #expect(refusal(DNSPacket.query("allowed.test", qclass: 3))?.rcode == .refused)
        #expect(refusal(DNSPacket.query("allowed.test", qclass: 255))?.rcode == .refused)
    }
}

@Suite("DNS resolver: answers")
struct DNSResponderTests {
    @Test func allowedNamesAreAskedWithWardensOwnQuestionAndAnswered() throws {
        let upstream = FakeUpstream(["allowed.test": [aRecord("allowed.test", [127, 0, 0, 3])]])
        let names = ResolvedNames()
        let r = try responder(upstream, names: names)
        let (reply, record) = r.answer(DNSPacket.query("Allowed.TEST"), overTCP: false)
        #expect(record == DNSLookupRecord(denied: false, name: "allowed.test", rule: record.rule))
        #expect(record.rule?.contains("allowed.test") == true)
        #expect(upstream.questions.map(\.name.text) == ["allowed.test"])
        let bytes = try #require(reply)
        #expect(bytes[0] == 0x12 && bytes[1] == 0x34 && rcode(bytes) == 0)
        let parsed = try DNSResponse.parse(bytes, id: 0x1234, question: DNSQuestion(name: DNSName("allowed.test"), type: 1))
        #expect(parsed.answers == [aRecord("allowed.test", [127, 0, 0, 3])])
        // A loopback answer is not learned (DNS rebinding to host services); a public one is.
        #expect(names.names(for: DNSResponder.host([127, 0, 0, 3])).isEmpty)
        let routable = FakeUpstream(["allowed.test": [aRecord("allowed.test", [198, 51, 100, 7])]])
        _ = try responder(routable, names: names).answer(DNSPacket.query("allowed.test"), overTCP: false)
        #expect(names.names(for: DNSResponder.host([198, 51, 100, 7])) == ["allowed.test"])
    }

    @Test func hostLocalAddressesAreRecognised() {
        for local: [UInt8] in [[127, 0, 0, 1], [127, 9, 9, 9], [0, 0, 0, 0], [169, 254, 169, 254], [224, 0, 0, 1],
                               [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1], Array(repeating: 0, count: 15) + [1],
                               [0xfe, 0x80] + Array(repeating: 0, count: 14), [0xff, 2] + Array(repeating: 0, count: 14)] {
            #expect(ResolvedNames.isHostLocal(local), "\(local)")
        }
        // This host's own interface addresses too (DNS rebinding to a service on 0.0.0.0).
        for own in ResolvedNames.interfaceAddresses { #expect(ResolvedNames.isHostLocal(own), "\(own)") }
        for routable: [UInt8] in [[198, 51, 100, 7], [10, 1, 2, 3], [8, 8, 8, 8], [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 12)] {
            #expect(!ResolvedNames.isHostLocal(routable), "\(routable)")
        }
    }

    @Test func refusedQueriesNeverReachTheUpstream() throws {
        let upstream = FakeUpstream(["allowed.test": [aRecord("allowed.test", [127, 0, 0, 3])]])
        let r = try responder(upstream)
        let update = DNSPacket.header(flags: 5 << 11) + DNSPacket.name("allowed.test") + DNSPacket.u16(6) + DNSPacket.u16(1)
        let dotted = DNSPacket.header() + DNSPacket.name([Array("allowed.test".utf8)]) + DNSPacket.u16(1) + DNSPacket.u16(1)
        var additional = DNSPacket.query("allowed.test") + DNSPacket.record(DNSPacket.name("x.allowed.test"), type: 16, data: [1, 0x41])
        additional[11] = 1
        for (packet, code) in [(update, 4), (dotted, 5), (additional, 1), (DNSPacket.query("evil.example"), 3)] as [([UInt8], UInt8)] {
            let (reply, record) = r.answer(packet, overTCP: false)
            #expect(rcode(reply) == code)
            #expect(record.denied)
        }
        #expect(upstream.questions.isEmpty)
        // The records name what was parsed, escaped, and why.
        let (_, dottedRecord) = r.answer(dotted, overTCP: false)
        #expect(dottedRecord.name == "allowed\\.test" && dottedRecord.rule?.hasPrefix("built-in: Warden's resolver: not a hostname") == true)
        let (_, updateRecord) = r.answer(update, overTCP: false)
        #expect(updateRecord.rule?.contains("UPDATE") == true)
        let (none, runt) = r.answer([1, 2, 3], overTCP: false)
        #expect(none == nil && runt.denied && runt.name == "-")
    }

    @Test func cnameChainsAreFollowedAndOtherRecordsDropped() throws {
        var answers = DNSPacket.record([0xC0, 12], type: 5, data: DNSPacket.name("edge.cdn.example"))
        let edge = 12 + DNSPacket.name("www.allowed.test").count + 4 + 12
        answers += DNSPacket.record([0xC0, UInt8(edge)], type: 1, data: [192, 0, 2, 1])
        answers += DNSPacket.record(DNSPacket.name("unrelated.example"), type: 1, data: [192, 0, 2, 66]) // not in the chain
        answers += DNSPacket.record([0xC0, UInt8(edge)], type: 16, data: [2, 0x68, 0x69])               // other type
        answers += DNSPacket.record([0xC0, UInt8(edge)], type: 1, qclass: 3, data: [192, 0, 2, 67])     // other class
        let message = DNSPacket.response(name: "www.allowed.test", count: 5, answers: answers)
        let q = DNSQuestion(name: DNSName("www.allowed.test"), type: 1)
        let parsed = try DNSResponse.parse(message, id: 0x1234, question: q)
        #expect(parsed.answers.map(\.type) == [5, 1])
        #expect(parsed.answers.last?.name.text == "edge.cdn.example")
        #expect(parsed.answers.last?.address == [192, 0, 2, 1])
        // Rebuilt by Warden and parsed again: the same records.
        let rebuilt = DNSMessage.reply(id: 7, recursionDesired: true, rcode: .noError, question: q, answers: parsed.answers,
                                       edns: false, limit: 512)
        #expect(try DNSResponse.parse(rebuilt, id: 7, question: q).answers == parsed.answers)
    }

    @Test func upstreamAnswersMustMatchTheQuery() {
        let q = DNSQuestion(name: DNSName("allowed.test"), type: 1)
        let good = DNSPacket.response(name: "allowed.test", count: 1, answers: DNSPacket.record([0xC0, 12], type: 1, data: [1, 2, 3, 4]))
        #expect((try? DNSResponse.parse(good, id: 0x1234, question: q)) != nil)
        #expect(throws: DNSResponseError.wrongID) { try DNSResponse.parse(good, id: 0x4321, question: q) }
        #expect(throws: DNSResponseError.wrongQuestion) {
            try DNSResponse.parse(good, id: 0x1234, question: DNSQuestion(name: DNSName("other.test"), type: 1))
        }
        var query = good
        query[2] &= 0x7F
        #expect(throws: DNSResponseError.notAResponse) { try DNSResponse.parse(query, id: 0x1234, question: q) }
        // A pointer loop or a forward pointer in an answer.
        let loop = DNSPacket.response(name: "allowed.test", count: 1, answers: DNSPacket.record([0xC0, 30], type: 1, data: [1, 2, 3, 4]))
        #expect(throws: DNSResponseError.malformed(.badPointer)) { try DNSResponse.parse(loop, id: 0x1234, question: q) }
        // A record whose length does not match its data.
        let short = DNSPacket.response(name: "allowed.test", count: 1, answers: DNSPacket.record([0xC0, 12], type: 1, data: [1, 2, 3]))
        #expect((try? DNSResponse.parse(short, id: 0x1234, question: q)) == nil)
    }

    @Test func largeAnswersAreTruncatedOverUDPAndWholeOverTCP() throws {
        let many = (1...60).map { aRecord("many.allowed.test", [10, 0, 0, UInt8($0)]) }
        let upstream = FakeUpstream(["many.allowed.test": many])
        let r = try responder(upstream)
        let packet = DNSPacket.query("many.allowed.test")
        let udp = try #require(r.answer(packet, overTCP: false).reply)
        #expect(isTruncated(udp) && udp.count <= 512 && udp[6] == 0 && udp[7] == 0)
        let tcp = try #require(r.answer(packet, overTCP: true).reply)
        #expect(!isTruncated(tcp))
        let parsed = try DNSResponse.parse(tcp, id: 0x1234, question: DNSQuestion(name: DNSName("many.allowed.test"), type: 1))
        #expect(parsed.answers.count == 60)
        // Owner names are compressed: each further A record costs 16 bytes.
        #expect(tcp.count == 12 + 23 + 60 * 16)
    }

    @Test func exemptionIsByProtocol() {
        let resolver = SocketAddress(ipv4: 0x7F35_0101, port: 53)
        let udpOnly = DNSResolverEndpoints(udp: resolver, tcp: nil)
        #expect(udpOnly.serves(.udp, resolver))
        #expect(!udpOnly.serves(.tcp, resolver))
        #expect(!udpOnly.serves(.udp, SocketAddress(ipv4: 0x7F35_0101, port: 54)))
        let both = DNSResolverEndpoints(udp: resolver, tcp: resolver)
        #expect(both.serves(.tcp, resolver))
        #expect(!both.serves(.tcp, SocketAddress(ipv4: 0x7F35_0102, port: 53)))
    }
}
