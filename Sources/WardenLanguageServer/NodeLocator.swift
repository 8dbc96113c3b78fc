import WardenPolicy

/// The syntax node under the cursor, most specific first.
enum NodeAtCursor {
    case include(IncludeDecl)
    case permissionSetName(PermissionSetDecl)
    case identityName(IdentityDecl)
    /// One name in a `use` statement.
    case useName(Name)
    /// One `@group` in a syscall rule.
    case syscallGroup(Name)
    case statement(Statement)
    /// `identity NAME` inside a test.
    case testIdentity(Name)
    case expectation(Expectation)
}

enum NodeLocator {
    /// True when byte `offset` is inside `span` (its end included, so a cursor just
    /// after a word still points at it).
    static func contains(_ span: SourceSpan, _ offset: Int) -> Bool {
        span.start.offset <= offset && offset <= span.end.offset
    }

    static func node(in file: PolicyFile, at offset: Int) -> NodeAtCursor? {
        for item in file.items where contains(item.span, offset) {
            switch item {
            case .include(let d): return .include(d)
            case .permissions(let d):
                if contains(d.name.span, offset) { return .permissionSetName(d) }
                return statement(d.statements, offset)
            case .identity(let d):
                if contains(d.name.span, offset) { return .identityName(d) }
                return statement(d.statements, offset)
            case .test(let d):
                for s in d.statements where contains(s.span, offset) {
                    switch s {
                    case .identity(let i): return .testIdentity(i.name)
                    case .expect(let e): return .expectation(e)
                    }
                }
                return nil
            case .secret, .trigger: return nil
            }
        }
        return nil
    }

    private static func statement(_ statements: [Statement], _ offset: Int) -> NodeAtCursor? {
        guard let s = statements.first(where: { contains($0.span, offset) }) else { return nil }
        switch s {
        case .use(let u):
            if let name = u.names.first(where: { contains($0.span, offset) }) { return .useName(name) }
        case .rule(let r):
            if case .syscall(let sys) = r.body,
               let spec = sys.specs.first(where: { $0.isGroup && contains($0.span, offset) }) {
                return .syscallGroup(spec.name)
            }
        default: break
        }
        return .statement(s)
    }
}
