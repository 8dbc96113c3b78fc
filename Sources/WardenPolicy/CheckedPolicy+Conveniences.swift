extension SourceFile {
    /// The exact source text of `span` (as written: `0xff`, `"a\"b"`, `4G`), for
    /// formatters and tools that must keep the author's spelling.
    public func text(of span: SourceSpan) -> String {
        let start = max(0, min(span.start.offset, bytes.count))
        let end = max(start, min(span.end.offset, bytes.count))
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

extension CheckedIdentity {
    /// The filesystem rules, with their access kinds and paths.
    public var fsRules: [(rule: EffectiveRule, access: [FsAccess], path: PolicyPath)] {
        rules.compactMap { r in
            if case .fs(let access, let path) = r.action { return (r, access, path) }
            return nil
        }
    }

    /// The network rules.
    public var netRules: [(rule: EffectiveRule, direction: NetDirection, proto: NetProtocol, endpoint: Endpoint)] {
        rules.compactMap { r in
            if case .net(let d, let p, let e) = r.action { return (r, d, p, e) }
            return nil
        }
    }

    /// The syscall rules.
    public var syscallRules: [(rule: EffectiveRule, match: SyscallMatch)] {
        rules.compactMap { r in
            if case .syscall(let m) = r.action { return (r, m) }
            return nil
        }
    }

    /// The capability rules (canonical names).
    public var capabilityRules: [(rule: EffectiveRule, capability: String)] {
        rules.compactMap { r in
            if case .capability(let c) = r.action { return (r, c) }
            return nil
        }
    }
}

extension EffectiveRule {
    /// Where the rule comes from, for `explain` and audit records:
    /// `main.warden:12:3` or `base.warden:4:3 (via toolchain > base)`.
    public var provenance: String {
        let at = "\(ruleSpan.file):\(ruleSpan.start.line):\(ruleSpan.start.column)"
        return via.isEmpty ? at : "\(at) (via \(via.map(\.setName).joined(separator: " > ")))"
    }
}
