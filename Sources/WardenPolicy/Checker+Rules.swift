import WardenKernel

extension PolicyChecker {
    /// Resolves one rule into effective rule items (invalid items are reported and dropped).
    /// Warns at an `exec` grant inside one of the identity's caches: a cache is never
    /// executable at run time (its mount is noexec), so the grant would not hold.
    mutating func checkExecInCaches(_ rules: [EffectiveRule]) {
        let caches = rules.filter(\.cache).compactMap { r -> PolicyPath? in
            if case .fs(_, let path) = r.action { return path } else { return nil }
        }
        guard !caches.isEmpty else { return }
        var reported: Set<SourceSpan> = []
        for r in rules where r.effect == .allow && !r.cache {
            guard case .fs(let access, let path) = r.action, access.contains(.exec),
                  let cache = caches.first(where: { path.isWithin($0) }), reported.insert(r.span).inserted else { continue }
            diagnostics.append(.warning("exec-in-cache", "`exec` has no effect in the cache `\(cache)`: nothing in a cache can be executed",
                                        at: r.span, help: "remove `exec` here, or keep what must run outside the cache"))
        }
    }

    mutating func resolveRule(_ r: Rule) -> [EffectiveRule] {
        let effect = r.effect.value
        func item(_ action: RuleAction, _ span: SourceSpan) -> EffectiveRule {
            EffectiveRule(effect: effect, action: action, because: r.because?.value, span: span, ruleSpan: r.span, via: [], cache: r.cache)
        }
        switch r.body {
        case .fs(let fs) where r.cache:
            return fs.paths.compactMap { p in
                guard let path = p.value else { return nil }
                guard path.base == .home, !path.components.isEmpty else {
                    diagnostics.error("cache-outside-home", "a cache must be a directory below `${home}`, not `\(p.literal.value)`", at: p.literal.span,
                                      help: "caches live in the agent's home, for example `cache \"${home}/.cache/pip\"`")
                    return nil
                }
                return item(.fs(access: [.read, .write], path: path), p.literal.span)
            }
        case .fs(let fs):
            var access: [FsAccess] = []
            for a in fs.access {
                if access.contains(a.value) {
                    diagnostics.append(.warning("duplicate-access", "`\(a.value.rawValue)` is listed twice", at: a.span))
                } else {
                    access.append(a.value)
                }
            }
            access = FsAccess.allCases.filter { access.contains($0) }
            if let create = fs.create, !checkCreate(effect: effect, access: access, paths: fs.paths, at: create) { return [] }
            return fs.paths.compactMap { p in
                p.value.map {
                    var rule = item(.fs(access: access, path: $0), p.literal.span)
                    rule.creates = fs.create != nil
                    return rule
                }
            }
        case .net(let net):
            return net.endpoints.compactMap { e in
                guard let ep = e.value else { return nil }
                if net.direction.value == .bind {
                    switch ep.host {
                    case .domain, .wildcardDomain:
                        diagnostics.error("invalid-bind-endpoint", "cannot bind to a domain name (`\(e.literal.value)`)", at: e.literal.span,
                                          help: "bind to an address such as \"0.0.0.0:\(ep.ports)\", \"[::]:\(ep.ports)\" or \"*:\(ep.ports)\"")
                        return nil
                    default: break
                    }
                }
                return item(.net(direction: net.direction.value, proto: net.proto.value, endpoint: ep), e.literal.span)
            }
        case .capability(let caps):
            return caps.names.compactMap { n in resolveCapability(n).map { item(.capability($0), n.span) } }
        case .http(let h):
            guard let action = resolveHTTP(h, effect: effect) else { return [] }
            return [item(.http(action), h.pattern.span)]
        case .gitPush(let g):
            return resolveGitPush(g).map { item($0.0, $0.1) }
        case .syscall(let sys):
            var errno: Int32?
            if let e = sys.errno {
                if effect == .allow {
                    diagnostics.error("errno-on-allow", "`errno` applies only to `deny` rules", at: e.span,
                                      help: "remove `errno \(e.value)`, or make the rule `deny`")
                } else if let v = ErrnoNames.value(of: e.value) {
                    errno = v
                } else {
                    let known = (1...200).compactMap { ErrnoNames.name(of: Int32($0)) }
                    diagnostics.error("unknown-errno", "unknown errno `\(e.value)`", at: e.span,
                                      help: Suggestions.help(for: e.value, in: known) ?? "use an errno name such as EPERM or EACCES")
                    return []
                }
            }
            if effect == .deny, errno == nil { errno = ErrnoNames.value(of: "EPERM") ?? 1 }
            return sys.specs.compactMap { spec in
                resolveSyscallSpec(spec).map { m in
                    var m = m
                    m.errno = errno
                    return item(.syscall(m), spec.span)
                }
            }
        }
    }

    /// The canonical capability name, or nil (reported).
    mutating func resolveCapability(_ n: Name) -> String? {
        if let c = Capabilities.canonicalName(n.value) { return c }
        let bare = Capabilities.all.map { String($0.dropFirst(4)) }
        let upper = n.value.uppercased()
        let query = upper.hasPrefix("CAP_") ? String(upper.dropFirst(4)) : upper
        diagnostics.error("unknown-capability", "unknown capability `\(n.value)`", at: n.span,
                          help: Suggestions.help(for: query, in: bare) ?? "`warden` knows the capabilities libcap names, such as NET_BIND_SERVICE")
        return nil
    }

    /// Resolves a syscall name (nil when unknown; reported).
    mutating func checkSyscallName(_ n: Name) -> Bool {
        if SyscallTable.isKnown(n.value) { return true }
        let help: String
        if SyscallGroups.named(n.value) != nil {
            help = "`\(n.value)` is a syscall group: write `@\(n.value)`"
        } else {
            help = Suggestions.help(for: n.value, in: SyscallTable.allNames) ?? "`warden syscalls` lists the known names"
        }
        diagnostics.error("unknown-syscall", "unknown syscall `\(n.value)`", at: n.span, help: help)
        return false
    }

    mutating func resolveSyscallSpec(_ spec: SyscallSpec) -> SyscallMatch? {
        if spec.isGroup {
            guard let group = SyscallGroups.named(spec.name.value), let members = SyscallGroups.expand(group.name) else {
                diagnostics.error("unknown-syscall-group", "unknown syscall group `@\(spec.name.value)`", at: spec.name.span,
                                  help: Suggestions.help(for: spec.name.value, in: SyscallGroups.all.map(\.name), prefix: "@")
                                    ?? "`warden syscalls` lists the groups")
                return nil
            }
            if let conditions = spec.conditions {
                diagnostics.error("group-condition", "argument conditions cannot apply to the group `@\(group.name)`",
                                  at: conditions.first?.span ?? spec.span,
                                  help: "its syscalls have different arguments: write a separate rule for each syscall you want to constrain")
                return nil
            }
            return SyscallMatch(written: "@" + group.name, group: group.name, syscalls: members, conditions: [], errno: nil)
        }
        guard checkSyscallName(spec.name) else { return nil }
        let name = spec.name.value
        guard let conditions = spec.conditions, !conditions.isEmpty else {
            return SyscallMatch(written: name, group: nil, syscalls: [name], conditions: [], errno: nil)
        }
        guard let signature = SyscallSignatures.arguments(of: name) else {
            diagnostics.error("no-syscall-signature", "Warden has no argument signature for `\(name)`, so it cannot check conditions on it",
                              at: conditions[0].span, help: "allow or deny `\(name)` without conditions")
            return nil
        }
        var resolved: [SyscallCondition] = []
        var ok = true
        for c in conditions {
            if let r = resolveCondition(c, syscall: name, signature: signature) { resolved.append(r) } else { ok = false }
        }
        guard ok else { return nil }
        guard checkConflicts(resolved, syscall: name) else { return nil }
        return SyscallMatch(written: name, group: nil, syscalls: [name], conditions: resolved, errno: nil)
    }

    mutating func resolveCondition(_ c: ArgCondition, syscall: String, signature: [SyscallArgument]) -> SyscallCondition? {
        let index: Int
        let at: SourceSpan
        switch c.target {
        case .position(let i):
            index = i
            at = c.span
        case .argument(let n):
            at = n.span
            if let i = signature.firstIndex(where: { $0.name == n.value }) {
                index = i
            } else if n.value.hasPrefix("arg"), n.value.count == 4, let d = n.value.last?.wholeNumberValue, d <= 5 {
                index = d
            } else {
                let names = signature.map(\.name)
                diagnostics.error("unknown-argument", "`\(syscall)` has no argument `\(n.value)`", at: n.span,
                                  help: Suggestions.help(for: n.value, in: names + (0..<signature.count).map { "arg\($0)" })
                                    ?? "its arguments are " + names.joined(separator: ", "))
                return nil
            }
        }
        guard index < signature.count else {
            diagnostics.error("argument-out-of-range", "`\(syscall)` takes \(signature.count) argument\(signature.count == 1 ? "" : "s"); there is no argument \(index)",
                              at: at, help: "its arguments are " + signature.map(\.name).joined(separator: ", "))
            return nil
        }
        let arg = signature[index]
        if arg.kind == .pointer {
            diagnostics.error("pointer-argument-condition",
                              "argument `\(arg.name)` of `\(syscall)` is a pointer: seccomp sees only the address, not the data it points to",
                              at: c.span,
                              help: "checking pointed-to data is unsafe (the agent can change it between the check and its use); constrain integer arguments, or use fs/net rules")
            return nil
        }
        func value(_ e: ValueExpr) -> UInt64? { resolveValue(e, is32Bit: arg.is32Bit) }
        let test: SyscallCondition.Test
        switch c.test {
        case .compare(let op, let e):
            guard let v = value(e) else { return nil }
            test = .compare(op.value, v)
        case .masked(let maskExpr, let valueExpr):
            guard let mask = value(maskExpr), let v = value(valueExpr) else { return nil }
            if v & ~mask != 0 {
                diagnostics.error("impossible-condition", "`\(arg.name) & \(hex(mask)) == \(hex(v))` can never hold: the value has bits outside the mask",
                                  at: c.span, help: "the value may only use bits of the mask `\(hex(mask))`")
                return nil
            }
            test = .masked(mask: mask, value: v)
        case .oneOf(let list):
            var values: [UInt64] = []
            var seen: Set<UInt64> = []
            for e in list {
                guard let v = value(e) else { return nil }
                if seen.insert(v).inserted { values.append(v) }
            }
            if values.isEmpty {
                diagnostics.error("impossible-condition", "`\(arg.name) in []` matches nothing", at: c.span,
                                  help: "list at least one value")
                return nil
            }
            test = .oneOf(values)
        }
        return SyscallCondition(argument: index, argumentName: arg.name, is32Bit: arg.is32Bit, test: test, span: c.span)
    }

    func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    /// The value of `a | b | ...` (unknown constants and out-of-range values reported).
    mutating func resolveValue(_ e: ValueExpr, is32Bit: Bool) -> UInt64? {
        var result: UInt64 = 0
        var ok = true
        for t in e.terms {
            switch t.kind {
            case .integer(let v): result |= v
            case .constant(let name):
                if let v = NamedConstants.value(of: name) {
                    result |= v
                } else {
                    diagnostics.error("unknown-constant", "unknown constant `\(name)`", at: t.span,
                                      help: Suggestions.help(for: name, in: NamedConstants.allNames) ?? "write the number instead, or see `warden constants`")
                    ok = false
                }
            }
        }
        guard ok else { return nil }
        if is32Bit, result > UInt64(UInt32.max) {
            diagnostics.error("value-out-of-range", "`\(hex(result))` does not fit in this 32-bit argument", at: e.span,
                              help: "the kernel reads only the low 32 bits of this argument")
            return nil
        }
        return result
    }

    /// Reports conditions on one argument that can never hold together.
    mutating func checkConflicts(_ conditions: [SyscallCondition], syscall: String) -> Bool {
        var ok = true
        var byArg: [Int: [SyscallCondition]] = [:]
        for c in conditions { byArg[c.argument, default: []].append(c) }
        for (_, list) in byArg.sorted(by: { $0.key < $1.key }) where list.count > 1 {
            // The set of values allowed by all equality-like tests, when any pins the value.
            var allowed: Set<UInt64>?
            var first: SyscallCondition?
            for c in list {
                var values: Set<UInt64>?
                switch c.test {
                case .compare(.equal, let v): values = [v]
                case .oneOf(let vs): values = Set(vs)
                default: values = nil
                }
                guard let vs = values else { continue }
                if let a = allowed {
                    let both = a.intersection(vs)
                    if both.isEmpty, let f = first {
                        diagnostics.error("conflicting-conditions", "conditions on `\(c.argumentName)` of `\(syscall)` can never all hold",
                                          at: c.span, help: "an argument cannot equal two different values; use `in [...]` for alternatives",
                                          notes: [RelatedNote("conflicts with this condition", at: f.span)])
                        ok = false
                        break
                    }
                    allowed = both
                } else {
                    allowed = vs
                    first = c
                }
            }
            // Checking other tests against pinned values is bounded to keep hostile input linear.
            guard ok, let pinned = allowed, pinned.count <= 256, let f = first else { continue }
            for c in list {
                let holds: (UInt64) -> Bool
                switch c.test {
                case .compare(let op, let v):
                    switch op {
                    case .equal: continue
                    case .notEqual: holds = { $0 != v }
                    case .less: holds = { $0 < v }
                    case .lessEqual: holds = { $0 <= v }
                    case .greater: holds = { $0 > v }
                    case .greaterEqual: holds = { $0 >= v }
                    }
                case .masked(let m, let v): holds = { $0 & m == v }
                case .oneOf: continue
                }
                if !pinned.contains(where: holds) {
                    diagnostics.error("conflicting-conditions", "conditions on `\(c.argumentName)` of `\(syscall)` can never all hold",
                                      at: c.span, help: "remove one of the conflicting conditions",
                                      notes: [RelatedNote("conflicts with this condition", at: f.span)])
                    ok = false
                    break
                }
            }
        }
        return ok
    }
}

extension PolicyChecker {
    /// `create` is valid on an `allow` rule granting `write`, for paths under
    /// `${workspace}`: the run makes directories only where the identity may write, in the
    /// tree the operator handed to the run. (That no deny covers them is checked per
    /// identity when the effective policy is built.)
    mutating func checkCreate(effect: Effect, access: [FsAccess], paths: [PathLiteral], at span: SourceSpan) -> Bool {
        var ok = true
        if effect == .deny {
            diagnostics.error("invalid-create", "`create` applies only to `allow` rules", at: span,
                              help: "remove `create`: a deny protects a path whether or not it exists")
            ok = false
        } else if !access.contains(.write) {
            diagnostics.error("invalid-create", "`create` needs `write` in the same rule: the run creates only directories the identity may write",
                              at: span, help: "write `allow fs read, write \"...\" create`, or remove `create`")
            ok = false
        }
        for p in paths {
            guard let path = p.value else { continue }
            if path.base != .workspace {
                diagnostics.error("invalid-create", "`create` applies to paths under ${workspace}; `\(p.literal.value)` is not",
                                  at: p.literal.span, help: "grant a path such as \"${workspace}/.github/workflows\", or create it before the run")
                ok = false
            } else if path.components.isEmpty {
                diagnostics.error("invalid-create", "`create` on ${workspace} itself: the workspace must exist before the run",
                                  at: p.literal.span, help: "name a directory inside it, such as \"${workspace}/.github/workflows\"")
                ok = false
            }
        }
        return ok
    }
}
