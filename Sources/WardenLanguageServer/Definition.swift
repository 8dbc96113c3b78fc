import WardenPolicy

/// `textDocument/definition`: a `use NAME` goes to the permission set's declaration (in
/// this file or an included one), an include to the included file, a test's
/// `identity NAME` to the identity.
enum DefinitionProvider {
    static func definition(_ doc: AnalyzedDocument, at offset: Int) -> JSON {
        guard let node = NodeLocator.node(in: doc.file, at: offset) else { return .null }
        switch node {
        case .useName(let name):
            guard let set = doc.policy?.permissionSets[name.value] else { return .null }
            return location(set.name.span, doc)
        case .testIdentity(let name):
            guard let identity = doc.policy?.identities[name.value] else { return .null }
            return location(identity.declaration.name.span, doc)
        case .include(let d):
            let target = PolicyPaths.resolve(d.path.value, relativeTo: doc.path)
            let start = LSPPosition(line: 0, character: 0)
            return .object([("uri", .string(DocumentURI.uri(target))), ("range", LSPRange(start: start, end: start).json)])
        default:
            return .null
        }
    }

    private static func location(_ span: SourceSpan, _ doc: AnalyzedDocument) -> JSON {
        guard let range = doc.range(of: span) else { return .null }
        return .object([("uri", .string(span.file == doc.path ? doc.uri : DocumentURI.uri(span.file))), ("range", range.json)])
    }
}
