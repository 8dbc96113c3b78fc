import WardenKernel

extension PolicyChecker {
    mutating func checkTest(_ t: TestDecl) -> CheckedTest {
        var identity: String?
        var identityStatement: TestIdentityStatement?
        var expectations: [CheckedExpectation] = []
        for s in t.statements {
            switch s {
            case .identity(let i):
                if let first = identityStatement {
                    diagnostics.error("duplicate-test-identity", "test \"\(t.name.value)\" names more than one identity", at: i.span,
                                      help: "write one test per identity", notes: [RelatedNote("first identity here", at: first.span)])
                    continue
                }
                identityStatement = i
                if identityDecls[i.name.value] != nil {
                    identity = i.name.value
                } else {
                    let help: String
                    if sets[i.name.value] != nil {
                        help = "`\(i.name.value)` is a permission set; tests run against an identity"
                    } else {
                        help = Suggestions.help(for: i.name.value, in: identityDecls.keys) ?? "define it with `identity \(i.name.value) { ... }`"
                    }
                    diagnostics.error("unknown-identity", "unknown identity `\(i.name.value)`", at: i.name.span, help: help)
                }
            case .expect(let e):
                if let action = resolveTarget(e.target) {
                    expectations.append(CheckedExpectation(effect: e.effect.value, action: action, span: e.span))
                }
            }
        }
        let onlyTriggers = t.statements.contains(where: { if case .expect(let e) = $0, case .trigger = e.target { return true } else { return false } })
            && t.statements.allSatisfy { s in
            if case .expect(let e) = s, case .trigger = e.target { return true }
            return s.isIdentity
        }
        if identityStatement == nil, !onlyTriggers {
            diagnostics.error("test-missing-identity", "test \"\(t.name.value)\" does not say which identity it tests", at: t.name.span,
                              help: "add `identity NAME` as the first line of the test")
        }
        if !t.statements.contains(where: { if case .expect = $0 { return true } else { return false } }) {
            diagnostics.append(.warning("empty-test", "test \"\(t.name.value)\" has no expectations", at: t.name.span,
                                        help: "add `expect allow ...` or `expect deny ...` lines"))
        }
        return CheckedTest(name: t.name.value, declaration: t, identity: identity, expectations: expectations)
    }

    mutating func resolveTarget(_ target: ExpectTarget) -> TestAction? {
        switch target {
        case .fs(let access, let path):
            return path.value.map { .fs(access.value, $0) }
        case .net(let dir, let proto, let ep):
            guard let e = ep.value else { return nil }
            guard e.isConcrete else {
                diagnostics.error("non-concrete-test-target", "a test must name one host and one port, not `\(ep.literal.value)`",
                                  at: ep.literal.span, help: "use an address or domain and a single port, for example \"example.org:443\"")
                return nil
            }
            return .net(dir.value, proto.value, e)
        case .syscall(let name, let args):
            guard checkSyscallName(name) else { return nil }
            guard let args else { return .syscall(name.value, arguments: nil) }
            if args.count > 6 {
                diagnostics.error("argument-out-of-range", "a syscall has at most 6 arguments; this test gives \(args.count)",
                                  at: args[6].span)
                return nil
            }
            var values: [UInt64] = []
            for a in args {
                guard let v = resolveValue(a, is32Bit: false) else { return nil }
                values.append(v)
            }
            return .syscall(name.value, arguments: values)
        case .capability(let n):
            return resolveCapability(n).map { .capability($0) }
        case .http(let scheme, let method, let url):
            guard !method.value.isEmpty, method.value.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                diagnostics.error("invalid-http-method", "`\(method.value)` is not an HTTP method", at: method.span,
                                  help: "a test names one uppercase method, such as GET or POST")
                return nil
            }
            switch HTTPURL.parse(url.value) {
            case .failure(let e):
                diagnostics.error(e.code, e.message, at: url.span, help: e.help)
                return nil
            case .success(let u):
                guard u.scheme == scheme.value else {
                    diagnostics.error("invalid-http-pattern", "the expectation says `\(scheme.value.rawValue)` but the URL is \(u.scheme.rawValue)://",
                                      at: url.span, help: "write `expect ... \(u.scheme.rawValue) \(method.value) \"\(url.value)\"`")
                    return nil
                }
                return .http(method: method.value, url: u)
            }
        case .trigger(let words):
            return resolveTriggerTarget(words)
        case .gitPush(let repo, let ref):
            guard case .success(let r) = GitRepoPattern.parse(repo.value) else {
                if case .failure(let e) = GitRepoPattern.parse(repo.value) { diagnostics.error(e.code, e.message, at: repo.span, help: e.help) }
                return nil
            }
            guard RefName.isValid(ref.value) else {
                diagnostics.error("invalid-ref-pattern", "`\(ref.value)` is not a full ref name", at: ref.span,
                                  help: "a test names one ref, such as \"refs/heads/main\"")
                return nil
            }
            let host: String
            switch r.host {
            case .ipv6(let n): host = IPv6Network(bytes: n.bytes, prefixLength: 128).description
            default: host = r.host.description
            }
            return .gitPush(host: host, port: r.effectivePort, repoPath: r.path, ref: ref.value)
        }
    }
}

extension TestStatement {
    var isIdentity: Bool { if case .identity = self { return true } else { return false } }
}
