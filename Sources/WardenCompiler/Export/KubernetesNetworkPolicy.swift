import WardenPolicy

/// The `NetworkPolicy` half of the Kubernetes export.
extension KubernetesExport {
    /// Ingress from `bind` rules, egress from CIDR `connect` rules; deny CIDRs inside become `except`.
    /// `domainsElsewhere`: domain `connect` rules go to the CiliumNetworkPolicy (no note here).
    static func networkPolicy(
        _ policy: EffectivePolicy, name: String, domainsElsewhere: Bool = false, note: (ExportNote.Kind, String, String) -> Void
    ) -> ExportValue {
        func cidr(_ h: EndpointHost) -> String? {
            switch h {
            case .ipv4(let n): return "\(IPv4Network(address: n.address, prefixLength: n.prefixLength).description)" + (n.prefixLength == 32 ? "/32" : "")
            case .ipv6(let n): return n.description + (n.prefixLength == 128 ? "/128" : "")
            default: return nil
            }
        }
        func ports(_ r: NetGrant) -> ExportValue? {
            guard !r.endpoint.ports.isAny else { return nil }
            var p: [(String, ExportValue)] = [("protocol", .string(r.proto.rawValue.uppercased())), ("port", .int(Int64(r.endpoint.ports.lower)))]
            if r.endpoint.ports.upper != r.endpoint.ports.lower { p.append(("endPort", .int(Int64(r.endpoint.ports.upper)))) }
            return .array([.object(p)])
        }
        func anyPorts(_ r: NetGrant) -> ExportValue {
            ports(r) ?? .array([.object([("protocol", .string(r.proto.rawValue.uppercased()))])])
        }
        let denies = policy.net.filter { $0.effect == .deny }
        var egress: [ExportValue] = []
        var ingress: [ExportValue] = []
        for r in policy.net where r.effect == .allow {
            let at = r.provenance.location
            let overlapping = denies.filter { d in d.direction == r.direction && d.proto == r.proto
                && d.endpoint.ports.lower <= r.endpoint.ports.upper && r.endpoint.ports.lower <= d.endpoint.ports.upper }
            var except: [String] = []
            var skip = false
            for d in overlapping {
                let coversPorts = d.endpoint.ports.lower <= r.endpoint.ports.lower && r.endpoint.ports.upper <= d.endpoint.ports.upper
                switch (d.endpoint.host, r.endpoint.host) {
                case (.domain, _), (.wildcardDomain, _):
                    if cidr(r.endpoint.host) != nil || r.endpoint.host == .any {
                        note(.weaker, "deny \(d.endpoint) cannot be expressed: a NetworkPolicy takes addresses, and the domain's addresses may lie in the allowed \(r.endpoint)", d.provenance.location)
                    }
                default:
                    if EffectivePolicy.hostMatches(d.endpoint.host, r.endpoint.host) && coversPorts { skip = true }
                    else if EffectivePolicy.hostMatches(r.endpoint.host, d.endpoint.host) && coversPorts, let c = cidr(d.endpoint.host) { except.append(c) }
                    else if EffectivePolicy.hostMatches(r.endpoint.host, d.endpoint.host) || EffectivePolicy.hostMatches(d.endpoint.host, r.endpoint.host) {
                        note(.weaker, "deny \(d.endpoint) covers only part of the ports of allow \(r.endpoint); a NetworkPolicy cannot subtract it", d.provenance.location)
                    }
                }
            }
            if skip { continue }
            var rule: [(String, ExportValue)] = []
            if r.direction == .bind {
                // A bind rule names a local address; a NetworkPolicy admits traffic to the port from anyone.
                ingress.append(.object([("ports", anyPorts(r))]))
                continue
            }
            switch r.endpoint.host {
            case .any:
                if !except.isEmpty { rule.append(("to", .array([.object([("ipBlock", .object([("cidr", .string("0.0.0.0/0")), ("except", .array(except.map { .string($0) }))]))])]))) }
            case .ipv4, .ipv6:
                guard let c = cidr(r.endpoint.host) else { continue }
                var block: [(String, ExportValue)] = [("cidr", .string(c))]
                if !except.isEmpty { block.append(("except", .array(except.map { .string($0) }))) }
                rule.append(("to", .array([.object([("ipBlock", .object(block))])])))
            case .domain, .wildcardDomain:
                if !(domainsElsewhere && r.direction == .connect) {
                    note(.stricter, "\(r.direction.rawValue) \(r.endpoint): a NetworkPolicy cannot name domains; the endpoint stays unreachable", at)
                }
                continue
            }
            rule.append(("ports", anyPorts(r)))
            egress.append(.object(rule))
        }
        var spec: [(String, ExportValue)] = [
            ("podSelector", .object([("matchLabels", .object([(labelKey, .string(policy.identity))]))])),
            ("policyTypes", .array([.string("Ingress"), .string("Egress")])),
        ]
        if !ingress.isEmpty { spec.append(("ingress", .array(ingress))) }
        if !egress.isEmpty { spec.append(("egress", .array(egress))) }
        return .object([
            ("apiVersion", .string("networking.k8s.io/v1")), ("kind", .string("NetworkPolicy")),
            ("metadata", .object([("name", .string(name))])),
            ("spec", .object(spec)),
        ])
    }

    static func networkPolicyComments(_ policy: EffectivePolicy) -> String {
        var s = "# NetworkPolicy: egress only to the policy's CIDR rules; no ingress except `bind` ports.\n"
        if policy.net.isEmpty { s += "# The identity has no network rules: all traffic except loopback is denied.\n" }
        for r in policy.net {
            switch r.endpoint.host {
            case .domain, .wildcardDomain:
                s += "# Not expressible (NetworkPolicy has no domain names): \(r.effect.rawValue) \(r.direction.rawValue) \(r.proto.rawValue) \(r.endpoint) (\(r.provenance.location))\n"
            default: break
            }
        }
        return s
    }
}
