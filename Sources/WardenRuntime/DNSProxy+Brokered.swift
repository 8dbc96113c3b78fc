import WardenCompiler
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

extension DNSProxy {
    /// Looks up the names HTTP rules broker (A and AAAA, at the same upstream the agent's
    /// lookups go to) and remembers their addresses for those names, before the agent
    /// starts.
    ///
    /// Whether a connect goes to the broker is decided by the names its address resolved
    /// to in this run. Without this, an agent could reach a brokered host's address
    /// through another allowed name that shares it (a CDN address; `curl --resolve`)
    /// without ever asking Warden's resolver for the brokered name, and its requests would
    /// bypass the HTTP rules. Wildcard patterns (`*.example.com`) cannot be looked up
    /// ahead; their names become brokered when the agent resolves them.
    func learnBrokeredAddresses(_ effective: EffectivePolicy, into names: ResolvedNames) {
        let allowLocal = getenv("WARDEN_DNS_ALLOW_LOCAL_ANSWERS").map { String(cString: $0) == "1" } ?? false
        var seen: Set<String> = []
        for endpoint in effective.brokeredEndpoints {
            guard case .domain(let name) = endpoint.host, seen.insert(name).inserted else { continue }
            for type in [DNSType.a, DNSType.aaaa] {
                var upstream = DNSUpstream(address: upstream)
                upstream.timeout = 2_000_000_000
                guard case .success(let response) = upstream.resolve(DNSQuestion(name: DNSName(name), type: type)) else { continue }
                for record in response.answers {
                    if let bytes = record.address, allowLocal || !ResolvedNames.isHostLocal(bytes) {
                        names.add(DNSResponder.host(bytes), for: name)
                    }
                }
            }
        }
    }
}
