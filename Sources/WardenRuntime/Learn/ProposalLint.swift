import WardenPolicy

/// The proposal applied to the policy in memory, checked and linted: a proposed rule the
/// checker rejects or a lint rule flags is withdrawn (listed as not proposed, with the
/// finding), until the patched policy is clean. Findings elsewhere in the policy (there
/// before the proposal) are returned for the operator, not acted on.
public struct ProposalLint: Sendable {
    /// The proposal with every flagged rule withdrawn.
    public var proposal: LearnProposal
    /// The identity's file with the proposal inserted.
    public var patch: PolicyPatch
    /// Findings outside the proposal's lines.
    public var preexisting: [Diagnostic]
    /// The patched policy's sources (for rendering findings).
    public var sources: [String: SourceFile]

    /// - Parameters:
    ///   - root: the policy file the operator named (its includes load from `provider`).
    ///   - identity: the identity the proposal is for.
    ///   - provider: where the files are read (the file system).
    public init(proposal: LearnProposal, root: String, identity: String,
                provider: any SourceProvider = FileSystemSourceProvider()) throws(LearnError) {
        let original: PolicyAnalysis
        do { original = try PolicyLoader(provider: provider).analyze(root) } catch { throw .unreadable(error.description) }
        guard let decl = original.policy.identities[identity]?.declaration else { throw .unknownIdentity(identity) }
        let file = decl.span.file
        guard let text = original.sources[file]?.text else { throw .unreadable("\(file): not loaded") }
        var current = proposal
        var withdrawn: [NotProposed] = []
        // Each pass withdraws at least one rule or ends: at most rules.count + 1 passes.
        for _ in 0...proposal.rules.count {
            current.notProposed = Array(Set(proposal.notProposed + withdrawn)).sorted()
            let patch = PolicyPatch(text: text, identity: decl, block: current.block(indent: Self.indent(text, decl)))
            let loader = PolicyLoader(provider: OverlaySourceProvider(base: provider, overrides: [file: patch.text]))
            let analysis: PolicyAnalysis
            do { analysis = try loader.analyze(root) } catch { throw .unreadable(error.description) }
            let result = Linter().lint(analysis)
            let inBlock = result.diagnostics.filter { $0.span.file == file && patch.insertedLines.contains($0.span.start.line) }
            if inBlock.isEmpty {
                self.proposal = current
                self.patch = patch
                self.preexisting = result.diagnostics
                self.sources = result.sources
                return
            }
            // Map each finding's line to the rule written on it (block: marker, then
            // evidence + rule per rule).
            var flagged: [Int: Diagnostic] = [:]
            for d in inBlock {
                let offset = d.span.start.line - patch.insertedLines.lowerBound - 1
                guard offset >= 0, offset % 2 == 1, offset / 2 < current.rules.count else { continue }
                if flagged[offset / 2] == nil { flagged[offset / 2] = d }
            }
            if flagged.isEmpty { throw .invalidProposal(inBlock.map { "\($0.code): \($0.message)" }.joined(separator: "; ")) }
            for (i, d) in flagged {
                withdrawn.append(NotProposed(reason: "lint \(d.code): \(d.message)", what: current.rules[i].text))
            }
            current.rules = current.rules.enumerated().filter { flagged[$0.offset] == nil }.map(\.element)
        }
        throw .invalidProposal("the proposal could not be made lint-clean")
    }

    /// The indentation of the identity's statements (two spaces when it has none).
    static func indent(_ text: String, _ decl: IdentityDecl) -> String {
        guard let first = decl.statements.first else { return "  " }
        let bytes = Array(text.utf8)
        var start = min(first.span.start.offset, bytes.count)
        var end = start
        while start > 0, bytes[start - 1] == 0x20 || bytes[start - 1] == 0x09 { start -= 1 }
        guard start == 0 || bytes[start - 1] == UInt8(ascii: "\n") else { return "  " }
        end = min(end, bytes.count)
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

/// Why `warden learn` could not build or apply a proposal (exit 2).
public enum LearnError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    case unknownIdentity(String)
    /// The patched policy has errors not tied to one proposed rule (a bug: reported, never written).
    case invalidProposal(String)
    /// The identity says `enforce-only`.
    case enforceOnly(String)

    public var description: String {
        switch self {
        case .unreadable(let why): return "cannot read the policy: \(why)"
        case .unknownIdentity(let name): return "no identity `\(name)` in the policy"
        case .invalidProposal(let why): return "the proposal does not check cleanly (\(why)); nothing was written"
        case .enforceOnly(let name): return "identity `\(name)` is marked `enforce-only`: warden learn does not run it in observing mode; remove the statement (a reviewed change) to learn its policy"
        }
    }
}
