import WardenKernel
import WardenPolicy

/// `textDocument/hover`: a short Markdown explanation of the node under the cursor.
enum HoverProvider {
    static func hover(_ doc: AnalyzedDocument, at offset: Int) -> JSON {
        guard let node = NodeLocator.node(in: doc.file, at: offset), let (markdown, span) = explain(node, doc) else { return .null }
        return .object([("contents", .object([("kind", .string("markdown")), ("value", .string(markdown))])),
                        ("range", doc.lines.range(span.start.offset, span.end.offset).json)])
    }

    static func explain(_ node: NodeAtCursor, _ doc: AnalyzedDocument) -> (String, SourceSpan)? {
        switch node {
        case .include(let d):
            let target = PolicyPaths.resolve(d.path.value, relativeTo: doc.path)
            return ("Includes \(Markdown.code(target)): its permission sets, identities, tests and secrets join this policy.", d.span)
        case .permissionSetName(let d):
            return (setSummary(d, doc), d.name.span)
        case .identityName(let d):
            return (identitySummary(d.name.value, doc) ?? "Identity `\(d.name.value)`.", d.name.span)
        case .useName(let name):
            guard let set = doc.policy?.permissionSets[name.value] else {
                return ("No permission set named `\(name.value)` is defined here or in an included file.", name.span)
            }
            return (setSummary(set, doc), name.span)
        case .syscallGroup(let name):
            guard let group = SyscallGroups.named(name.value) else { return ("Unknown syscall group `@\(name.value)`.", name.span) }
            let expanded = SyscallGroups.expand(group.name) ?? []
            return ("**@\(group.name)**: \(group.summary)\n\nMembers: " + group.members.map { "`\($0)`" }.joined(separator: ", ")
                    + "\n\n\(expanded.count) syscalls: " + expanded.map { "`\($0)`" }.joined(separator: ", "), name.span)
        case .testIdentity(let name):
            return (identitySummary(name.value, doc) ?? "No identity named `\(name.value)` is defined.", name.span)
        case .expectation(let e):
            let verb = e.effect.value == .allow ? "allowed" : "denied"
            return ("`warden test` checks that this action is **\(verb)** for the test's identity, as `warden explain` would decide it.", e.span)
        case .statement(let s):
            return (RuleExplanation.explain(s, doc), s.span)
        }
    }

    static func setSummary(_ set: PermissionSetDecl, _ doc: AnalyzedDocument) -> String {
        let body = set.statements.compactMap { doc.text(of: $0.span) }.joined(separator: "\n")
        return "**permissions \(set.name.value)** (" + Markdown.code("\(set.name.span.file):\(set.name.span.start.line)") + ")\n\n"
            + Markdown.codeBlock(body, language: "warden")
    }

    static func identitySummary(_ name: String, _ doc: AnalyzedDocument) -> String? {
        guard let identity = doc.policy?.identities[name] else { return nil }
        var out = "**identity \(name)**"
        if let description = identity.description { out += ": " + Markdown.text(description) }
        let uses = identity.declaration.statements.compactMap { s -> [String]? in
            if case .use(let u) = s { return u.names.map(\.value) }
            return nil
        }.flatMap { $0 }
        if !uses.isEmpty { out += "\n\nUses " + uses.map { "`\($0)`" }.joined(separator: ", ") + "." }
        out += "\n\n\(identity.rules.count) effective rule\(identity.rules.count == 1 ? "" : "s") after `use`."
        return out
    }
}

/// One sentence on what a statement grants or takes away.
enum RuleExplanation {
    static func explain(_ statement: Statement, _ doc: AnalyzedDocument) -> String {
        switch statement {
        case .rule(let r): return rule(r)
        case .use(let u): return "Adds every rule of " + u.names.map { "\(Markdown.code($0.value))" }.joined(separator: ", ") + " to this block."
        case .description: return "Describes the identity (shown by `warden explain`, `doctor` and in the audit trail)."
        case .limit(let l): return "Limits \(Markdown.code(l.kindName.value)) to \(Markdown.code(l.valueText.value)) for the whole run (exceeding it is an error, not a warning)."
        case .envPass(let e): return "Passes " + e.names.map { "\(Markdown.code($0.value))" }.joined(separator: ", ") + " from the caller's environment to the agent; every other variable is dropped."
        case .envSet(let e): return "Sets `\(e.name.value)` in the agent's environment."
        case .envPlaceholder(let e): return "Gives the agent a placeholder in `\(e.name.value)` instead of the secret's value; the broker substitutes the secret only on the requests a rule allows."
        case .enforceOnly: return "The identity only runs fully enforced: `warden learn` refuses it."
        }
    }

    static func rule(_ r: Rule) -> String {
        let allow = r.effect.value == .allow
        var out: String
        switch r.body {
        case .fs(let fs):
            let access = fs.access.map(\.value.rawValue).joined(separator: ", ")
            let paths = fs.paths.map { "\(Markdown.code($0.literal.value))" }.joined(separator: ", ")
            if r.cache {
                out = "Gives the identity a persistent cache at \(paths) (read and write)."
            } else {
                out = (allow ? "Allows \(access) access to " : "Denies \(access) access to ") + paths + " and everything below."
            }
            if fs.create != nil { out += " Missing directories are created before launch." }
        case .net(let net):
            let endpoints = net.endpoints.map { "\(Markdown.code($0.literal.value))" }.joined(separator: ", ")
            let what = net.direction.value == .connect ? "\(net.proto.value.rawValue.uppercased()) connections to" : "binding \(net.proto.value.rawValue.uppercased()) sockets on"
            out = (allow ? "Allows " : "Denies ") + what + " " + endpoints + "."
        case .syscall(let sys):
            let names = sys.specs.map { spec -> String in
                let name = (spec.isGroup ? "@" : "") + spec.name.value
                if spec.isGroup, let n = SyscallGroups.expand(spec.name.value)?.count { return "`\(name)` (\(n) syscalls)" }
                return spec.conditions == nil ? "`\(name)`" : "`\(name)` (only with the arguments given)"
            }.joined(separator: ", ")
            out = (allow ? "Allows the syscalls " : "Denies the syscalls ") + names + "."
            if let errno = sys.errno { out += " They fail with `\(errno.value)`." }
        case .capability(let cap):
            let names = cap.names.map { "`\(Capabilities.canonicalName($0.value) ?? $0.value)`" }.joined(separator: ", ")
            out = allow ? "Keeps the capabilities \(names) (every other one is dropped)." : "Drops the capabilities \(names)."
        case .http(let http):
            let methods = http.methods.isEmpty ? "any method" : http.methods.map(\.value).joined(separator: ", ")
            out = (allow ? "Allows " : "Denies ") + "\(http.scheme.value.rawValue.uppercased()) requests (\(methods)) through the broker to \(Markdown.code(http.pattern.value))."
        case .gitPush(let push):
            out = (allow ? "Allows " : "Denies ") + "git pushes to \(Markdown.code(push.repo.value)) of the refs " + push.refs.map { "\(Markdown.code($0.value))" }.joined(separator: ", ") + "."
        }
        if !allow { out += " A deny wins over every allow, wherever it is written." }
        if let because = r.because { out += "\n\nBecause: " + Markdown.text(because.value) }
        return out
    }
}

/// Policy text inside hover Markdown: it can hold backticks, brackets and angle brackets,
/// and must never turn into links, images or HTML in the editor.
enum Markdown {
    /// `text` as an inline code span whose fence is longer than any backtick run in it.
    static func code(_ text: String) -> String {
        let fence = String(repeating: "`", count: longestBacktickRun(text) + 1)
        let padded = text.hasPrefix("`") || text.hasSuffix("`") ? " \(text) " : text
        return fence + padded + fence
    }

    /// `text` as a fenced code block whose fence is longer than any backtick run in it.
    static func codeBlock(_ text: String, language: String) -> String {
        let fence = String(repeating: "`", count: max(3, longestBacktickRun(text) + 1))
        return fence + language + "\n" + text + "\n" + fence
    }

    /// `text` with every Markdown punctuation character backslash-escaped and line breaks
    /// as spaces.
    static func text(_ text: String) -> String {
        var out = ""
        for c in text {
            if c.isNewline { out += " "; continue }
            if "\\`*_{}[]()<>#+-.!|~&".contains(c) { out += "\\" }
            out.append(c)
        }
        return out
    }

    static func longestBacktickRun(_ text: String) -> Int {
        var longest = 0, run = 0
        for c in text {
            run = c == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }
}
