import WardenPolicy

extension PolicyDiffer {
    /// Ref updates pushed through the broker whose decision differs (`decideGitPush`).
    ///
    /// Completeness. An invalid ref is refused on both sides. Otherwise the answer depends
    /// only on the set of `git push` rules matching (host, port, repository, ref):
    /// - host and port: a rule names one host and port exactly; a push elsewhere matches
    ///   nothing. So each (host, port) rules name is a class.
    /// - repository: allows compare the normalised path exactly, denies ignoring case. A
    ///   path equal to a mentioned one is a representative; one that is not but equals a
    ///   mentioned path ignoring case is matched by exactly the denies of that lower-case
    ///   form, as is a case variant of it no rule spells exactly; any other path matches
    ///   nothing, like the fresh `warden-diff-x/warden-diff-x`.
    /// - ref: `SegmentRepresentatives` over the ref patterns of the rules matching the
    ///   repository (exact for literal and `*` segments and `**`; globs inside a segment are
    ///   the documented residual).
    /// A (host, port) whose rules are the same on both sides apart from where they are
    /// written answers every push alike and is skipped.
    static func gitPushChanges(old: EffectivePolicy, new: EffectivePolicy) throws(PolicyDiffError) -> DomainChanges {
        let rules = old.gitPush + new.gitPush
        guard !rules.isEmpty else { return DomainChanges() }
        var groups = ProbeWitnessGroups()
        var places: [String: (host: EndpointHost, port: UInt16)] = [:]
        for r in rules { places["\(r.repo.host):\(r.repo.effectivePort)"] = (r.repo.host, r.repo.effectivePort) }
        for key in places.keys.sorted() {
            guard let (host, port) = places[key] else { continue }
            let hostText = NetworkRepresentatives.hostText(host)
            let here = rules.filter { $0.repo.effectivePort == port && HTTPHostName.covers($0.repo.host, host) }
            // The same rules (ignoring where they are written) decide every push alike.
            func shapes(_ p: EffectivePolicy) -> Set<String> {
                Set(p.gitPush.filter { $0.repo.effectivePort == port && HTTPHostName.covers($0.repo.host, host) }
                    .map { "\($0.effect.rawValue) \($0.repo.path) \($0.ref)" })
            }
            if shapes(old) == shapes(new) { continue }
            for repo in repositories(Set(here.map(\.repo.path))) {
                let matching = here.filter { $0.repo.matches(host: hostText, port: port, repoPath: repo, lenient: $0.effect == .deny) }
                if matching.isEmpty { continue }
                let patterns = matching.map { SegmentPattern(segments: $0.ref.segments, trailingGlob: $0.ref.trailingGlob, lenient: $0.effect == .deny) }
                let refs: [SegmentRepresentatives.Value]
                do {
                    refs = try SegmentRepresentatives(patterns, language: .gitRef)
                        .values { RefName.isValid($0.segments.joined(separator: "/")) }
                } catch {
                    throw .tooComplex(identity: new.identity, domain: .gitPush, detail: "\(hostText)/\(repo): \(error.detail)")
                }
                for value in refs {
                    let ref = value.segments.joined(separator: "/")
                    let order = WitnessOrder(WitnessOrder.text(repo) + WitnessOrder.text(ref)
                                             + NetworkRepresentatives.order(host) + [.number(UInt64(port))])
                    groups.consider(.gitPush(host: hostText, port: port, repoPath: repo, ref: ref), subkind: "git push",
                                    order: order, old: old, new: new)
                }
            }
        }
        return groups.changes(old: old, new: new)
    }

    /// The mentioned repository paths, a case variant of each that no rule spells exactly,
    /// and a fresh path.
    static func repositories(_ mentioned: Set<String>) -> [String] {
        var out = mentioned
        for path in mentioned {
            let variants = [path.uppercased(), path.lowercased(), SegmentRepresentatives.swapFirstLetter(path),
                            SegmentRepresentatives.swapLastLetter(path)]
            if let v = variants.first(where: { !mentioned.contains($0) }) { out.insert(v) }
        }
        let lower = Set(mentioned.map { $0.lowercased() })
        if let fresh = ["warden-diff-x/warden-diff-x", "warden-diff-y/warden-diff-y", "wdx/wdx"].first(where: { !lower.contains($0) }) {
            out.insert(fresh)
        }
        return out.sorted { ($0.utf8.count, $0) < ($1.utf8.count, $1) }
    }
}
