import ArgumentParser
import WardenCompiler
import WardenPolicy

/// Why `PolicyInput.check` produced no policy (its messages are already on stderr).
enum PolicyInputFailure: Error {
    /// The policy or an include could not be read (not a regular file, too large, unreadable).
    case io(String)
    /// The policy has errors (`count` of them).
    case invalid(count: Int)

    var message: String {
        switch self {
        case .io(let m): return m
        case .invalid(let n): return "the policy has \(n) error\(n == 1 ? "" : "s")"
        }
    }
}

/// Loads and checks one policy for commands that need an error-free policy
/// (`test`, `explain`, `compile`, `run`): diagnostics go to stderr, then exit `failureCode`
/// (or, for a policy or include that cannot be read — not a regular file, too large,
/// unreadable — the I/O status: 2, or `failureCode` when that is not 1). `-` reads the
/// policy from standard input (see `StandardInputPolicy`) unless `standardInput` is false.
enum PolicyInput {
    static func load(_ path: String, failureCode: Int32, standardInput: Bool = true) throws -> CheckedPolicy {
        let ioFailureCode = failureCode == 1 ? 2 : failureCode
        if !standardInput && path == StandardInputPolicy.argument {
            printError("`-` (standard input) cannot be the policy here: give a file")
            throw ExitCode(ioFailureCode)
        }
        switch check(path) {
        case .success(let policy): return policy
        case .failure(.io): throw ExitCode(ioFailureCode)
        case .failure(.invalid): throw ExitCode(failureCode)
        }
    }

    /// The checked policy at `path` (`-`: standard input), or why there is none; every
    /// message (diagnostics, I/O errors) is printed on stderr.
    static func check(_ path: String) -> Result<CheckedPolicy, PolicyInputFailure> {
        let analysis: PolicyAnalysis
        do {
            let provider = try StandardInputPolicy.provider(for: [path])
            analysis = try PolicyLoader(provider: provider).analyze(StandardInputPolicy.loaderPath(path))
        } catch {
            printError("\(error)")
            return .failure(.io(error.description))
        }
        let errors = analysis.diagnostics.filter { $0.severity == .error }
        if !errors.isEmpty {
            let name = shown(StandardInputPolicy.loaderPath(path))
            printError(DiagnosticRenderer.text(errors, sources: analysis.sources), prefix: false)
            printError("\(name): the policy has \(errors.count) error\(errors.count == 1 ? "" : "s"); run `warden lint \(shown(path))`")
            if errors.hasInputErrors { return .failure(.io("\(name): an include cannot be read")) }
            return .failure(.invalid(count: errors.count))
        }
        return .success(analysis.policy)
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
