import WardenPolicy

/// The optional `CiliumNetworkPolicy` (cilium.io/v2) of the Kubernetes export: egress to the
/// policy's domain names (`toFQDNs`), which a Kubernetes `NetworkPolicy` cannot name.
///
/// Cilium learns a name's addresses from the pod's own DNS answers, so the object also
/// allows DNS to the cluster's kube-dns with an L7 `dns` rule that lets through lookups of
/// the allowed names only (no other name can be resolved, which also closes DNS as a
/// channel to arbitrary names). Cilium adds these allows to the `NetworkPolicy`'s.
extension KubernetesExport {
    /// The object, or nil when the identity has no `allow net connect` rule with a domain.
    static func ciliumNetworkPolicy(_ policy: EffectivePolicy, name: String, note: (ExportNote.Kind, String, String) -> Void)
        -> ExportValue?
    {
        let allows = policy.net.filter { r in
            guard r.effect == .allow, r.direction == .connect else { return false }
            switch r.endpoint.host {
            case .domain, .wildcardDomain: return true
            default: return false
            }
        }
        guard !allows.isEmpty else { return nil }
        let denies = policy.net.filter { $0.effect == .deny && $0.direction == .connect }
        var egress: [ExportValue] = []
        var names: [ExportValue] = []
        for r in allows {
            let at = r.provenance.location
            let overlapping = denies.filter { d in
                d.proto == r.proto && d.endpoint.ports.lower <= r.endpoint.ports.upper
                    && r.endpoint.ports.lower <= d.endpoint.ports.upper
            }
            // Deny wins: a deny covering the whole allow removes it; one covering part of it
            // cannot be subtracted (toFQDNs only allows), nor can addresses a name may resolve to.
            var skip = false
            for d in overlapping {
                let coversPorts = d.endpoint.ports.lower <= r.endpoint.ports.lower && r.endpoint.ports.upper <= d.endpoint.ports.upper
                if EffectivePolicy.hostMatches(d.endpoint.host, r.endpoint.host) && coversPorts {
                    skip = true
                    continue
                }
                switch d.endpoint.host {
                case .domain, .wildcardDomain:
                    if EffectivePolicy.hostMatches(r.endpoint.host, d.endpoint.host)
                        || EffectivePolicy.hostMatches(d.endpoint.host, r.endpoint.host)
                    {
                        note(.weaker, "deny \(d.endpoint) cannot be expressed: toFQDNs only allows, so allow \(r.endpoint) reaches it", d.provenance.location)
                    }
                case .any:
                    note(.weaker, "deny \(d.endpoint) covers only part of the ports of allow \(r.endpoint); a CiliumNetworkPolicy cannot subtract it", d.provenance.location)
                case .ipv4, .ipv6:
                    note(.weaker, "deny \(d.endpoint) cannot be subtracted from allow \(r.endpoint): the name's addresses may lie in it", d.provenance.location)
                }
            }
            if skip { continue }
            let selector: ExportValue
            switch r.endpoint.host {
            case .domain(let d):
                selector = .object([("matchName", .string(d))])
            case .wildcardDomain(let suffix):
                selector = .object([("matchPattern", .string("*." + suffix))])
                note(.stricter, "connect \(r.endpoint): Cilium's `*.` matches one label, so names deeper under \(suffix) stay unreachable", at)
            default: continue
            }
            names.append(selector)
            var port: [(String, ExportValue)] = [
                ("port", .string(r.endpoint.ports.isAny ? "0" : String(r.endpoint.ports.lower))),
                ("protocol", .string(r.proto.rawValue.uppercased())),
            ]
            if !r.endpoint.ports.isAny && r.endpoint.ports.upper != r.endpoint.ports.lower {
                port.append(("endPort", .int(Int64(r.endpoint.ports.upper))))
            }
            egress.append(.object([
                ("toFQDNs", .array([selector])),
                ("toPorts", .array([.object([("ports", .array([.object(port)]))])])),
            ]))
        }
        let dns = ExportValue.object([
            ("toEndpoints", .array([.object([("matchLabels", .object([
                ("k8s:io.kubernetes.pod.namespace", .string("kube-system")), ("k8s:k8s-app", .string("kube-dns")),
            ]))])])),
            ("toPorts", .array([.object([
                ("ports", .array([.object([("port", .string("53")), ("protocol", .string("ANY"))])])),
                ("rules", .object([("dns", .array(unique(names)))])),
            ])])),
        ])
        return .object([
            ("apiVersion", .string("cilium.io/v2")), ("kind", .string("CiliumNetworkPolicy")),
            ("metadata", .object([("name", .string(name + "-fqdn")), ("labels", .object([(labelKey, .string(policy.identity))]))])),
            ("spec", .object([
                ("endpointSelector", .object([("matchLabels", .object([(labelKey, .string(policy.identity))]))])),
                ("egress", .array([dns] + egress)),
            ])),
        ])
    }

    private static func unique(_ values: [ExportValue]) -> [ExportValue] {
        var seen: Set<String> = []
        return values.filter { seen.insert($0.json()).inserted }
    }

    static let ciliumComments = """
        # CiliumNetworkPolicy (cilium.io/v2): egress to the policy's domain names, which a
        # NetworkPolicy cannot name. Cilium adds these allows to the NetworkPolicy's. DNS goes to
        # kube-dns only, and only lookups of these names are answered (Cilium's DNS proxy), so
        # Cilium learns the addresses the pod may reach. Apply only where Cilium runs.

        """
}
