import WardenCompiler
import WardenPolicy

/// What one packet sent to Warden's resolver got, for the audit trail: the name as parsed
/// (presentation text, escaped: no raw bytes of the agent's), allowed or refused, and the
/// deciding rule or the reason for a refusal.
struct DNSLookupRecord: Equatable, Sendable {
    var denied: Bool
    var name: String
    var rule: String?
}

/// Decides and answers one query: parses it strictly, refuses anything that is not a
/// standard query for a hostname, decides the parsed name against the rules, asks the
/// upstream a query of its own for an allowed name, and builds the agent's answer from the
/// parsed answer records. Addresses in an allowed answer become connectable for the name.
struct DNSResponder: Sendable {
    let decide: @Sendable (String) -> Decision
    let resolve: @Sendable (DNSQuestion) -> Result<DNSResponse, DNSUpstream.Failure>
    let names: ResolvedNames
    /// Whether host-local answers (loopback, link-local...) make their address connectable;
    /// off unless the operator sets `WARDEN_DNS_ALLOW_LOCAL_ANSWERS=1` (a resolver that serves
    /// local names on purpose, and the tests, whose only network is loopback).
    var allowsHostLocalAnswers = false
    /// Observing mode: names no rule allows are looked up too (see `LearnedLookups`).
    var learn: LearnedLookups?

    /// Rule text of refusals that no policy rule decided.
    static func builtIn(_ reason: String) -> String { "built-in: Warden's resolver: \(reason)" }

    /// The answer to `packet` (nil: none can be sent) and what to record. Over UDP an
    /// answer larger than the client takes is truncated (TC); over TCP it is whole.
    func answer(_ packet: [UInt8], overTCP: Bool) -> (reply: [UInt8]?, record: DNSLookupRecord) {
        let query: DNSQuery
        switch DNSMessage.parseQuery(packet) {
        case .ignore(let reason):
            return (nil, DNSLookupRecord(denied: true, name: "-", rule: Self.builtIn(reason)))
        case .refuse(let r):
            let reply = DNSMessage.reply(id: r.id, recursionDesired: r.recursionDesired, rcode: r.rcode, question: r.question,
                                         edns: r.edns, limit: 65535)
            return (reply, DNSLookupRecord(denied: true, name: r.name?.text ?? "-", rule: Self.builtIn(r.reason)))
        case .accept(let q):
            query = q
        }
        let name = query.question.name.text
        let limit = overTCP ? 65535 : query.udpLimit
        func reply(_ rcode: DNSRcode, _ answers: [DNSRecord] = []) -> [UInt8] {
            DNSMessage.reply(id: query.id, recursionDesired: query.recursionDesired, rcode: rcode, question: query.question,
                             answers: answers, edns: query.ednsPayloadSize != nil, limit: limit)
        }
        let decision = decide(name)
        let rule = decision.rules.first.map { "\($0.location): \($0.rule)" }
        guard decision.effect == .allow else {
            let refused = DNSLookupRecord(denied: true, name: name, rule: rule)
            guard let learn else { return (reply(.nxDomain), refused) }
            // Observing mode: answered from upstream and recorded; the addresses name later
            // denied connects, and never become connectable (they go to `learn.names` only).
            guard case .success(let response) = resolve(query.question) else { return (reply(.servFail), refused) }
            learn.recorder.addName(name, qtype: DNSType.name(query.question.type))
            for record in response.answers { if let bytes = record.address { learn.names.add(Self.host(bytes), for: name) } }
            let rcode = Self.rcode(response.rcode)
            return (reply(rcode, rcode == .servFail ? [] : response.answers), refused)
        }
        let allowed = DNSLookupRecord(denied: false, name: name, rule: rule)
        guard case .success(let response) = resolve(query.question) else {
            return (reply(.servFail), allowed)
        }
        // An answer pointing at this host or its link (loopback, link-local such as cloud
        // metadata, unspecified, multicast) never makes that address connectable by name:
        // whoever controls the allowed domain's DNS would otherwise reach host services.
        for record in response.answers {
            if let bytes = record.address, allowsHostLocalAnswers || !ResolvedNames.isHostLocal(bytes) {
                names.add(Self.host(bytes), for: name)
            }
        }
        let rcode = Self.rcode(response.rcode)
        return (reply(rcode, rcode == .servFail ? [] : response.answers), allowed)
    }

    /// The agent's rcode for an upstream's: NOERROR and NXDOMAIN pass, anything else SERVFAIL.
    static func rcode(_ upstream: UInt8) -> DNSRcode {
        switch upstream {
        case DNSRcode.noError.rawValue: .noError
        case DNSRcode.nxDomain.rawValue: .nxDomain
        default: .servFail
        }
    }

    static func host(_ bytes: [UInt8]) -> EndpointHost {
        bytes.count == 4
            ? SocketAddress(ipv4: bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, port: 0).host
            : SocketAddress(ipv6: bytes, port: 0).host
    }
}
