import Testing
import WardenCompiler
import WardenPolicy

/// Checks an in-memory policy (`files` by absolute path; the root is `/p/main.warden`).
func checked(_ text: String, files: [String: String] = [:]) throws -> CheckedPolicy {
    var all = files
    all["/p/main.warden"] = text
    let analysis = try PolicyLoader(provider: InMemorySourceProvider(all)).analyze("/p/main.warden")
    let errors = analysis.diagnostics.filter { $0.severity == .error }
    guard errors.isEmpty else {
        throw DiffTestError.invalidPolicy(errors.map { "\($0.span.start.line):\($0.span.start.column): \($0.message)" }.joined(separator: "\n"))
    }
    return analysis.policy
}

/// Compares two policy texts.
func diff(_ old: String, _ new: String, identity: String? = nil) throws -> PolicyDiff {
    try PolicyDiffer.compare(old: checked(old), new: checked(new), identity: identity)
}

enum DiffTestError: Error { case invalidPolicy(String) }

@Suite struct DiffContractTests {
    @Test func anAddedIdentityWidensAndARemovedOneNarrows() throws {
        let one = "warden 1\nidentity a {\n  allow fs read \"/usr\"\n}\n"
        let two = one + "identity b {\n  allow fs read \"/etc\"\n}\n"
        let added = try diff(one, two)
        #expect(added.widens)
        #expect(added.identities.map(\.identity) == ["a", "b"])
        #expect(added.identities[1].status == .added && added.identities[1].verdict == .wider)
        let removed = try diff(two, one)
        #expect(!removed.widens)
        #expect(removed.identities[1].status == .removed && removed.identities[1].verdict == .narrower)
        #expect(try diff(one, one).identities.allSatisfy { $0.verdict == .equivalent })
    }

    @Test func anUnknownIdentityIsAnError() throws {
        let one = "warden 1\nidentity a {\n  allow fs read \"/usr\"\n}\n"
        #expect(throws: PolicyDiffError.unknownIdentity("zz")) { try diff(one, one, identity: "zz") }
    }
}
