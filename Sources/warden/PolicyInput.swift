import ArgumentParser
import WardenCompiler
import WardenPolicy

/// Loads and checks one policy for commands that need an error-free policy
/// (`test`, `explain`, `compile`, `run`): diagnostics go to stderr, then exit `failureCode`
/// (or, for a policy or include that cannot be read — not a regular file, too large,
/// unreadable — the I/O status: 2, or `failureCode` when that is not 1).
enum PolicyInput {
    static func load(_ path: String, failureCode: Int32) throws -> CheckedPolicy {
        let ioFailureCode = failureCode == 1 ? 2 : failureCode
        let analysis: PolicyAnalysis
        do {
            analysis = try PolicyLoader().analyze(path)
        } catch {
            printError("\(error)")
            throw ExitCode(ioFailureCode)
        }
        let errors = analysis.diagnostics.filter { $0.severity == .error }
        if !errors.isEmpty {
            printError(DiagnosticRenderer.text(errors, sources: analysis.sources), prefix: false)
            printError("\(shown(path)): the policy has \(errors.count) error\(errors.count == 1 ? "" : "s"); run `warden lint \(shown(path))`")
            throw ExitCode(errors.hasInputErrors ? ioFailureCode : failureCode)
        }
        return analysis.policy
    }

    /// The effective policy of `identity` (or of the only identity).
    static func effective(_ policy: CheckedPolicy, identity: String?, failureCode: Int32) throws -> EffectivePolicy {
        do {
            let name = try EffectivePolicy.selectIdentity(identity, in: policy)
            return try EffectivePolicy(policy: policy, identity: name)
        } catch {
            printError(error.description)
            throw ExitCode(failureCode)
        }
    }
}
