import WardenCompiler
import WardenKernel
import WardenPolicy

/// The policy as a pod receives it: its files relative to the root file's directory (the
/// root first), read at launch like `warden run` reads them for a local run, and the
/// identity's `limit wall-time`.
struct PolicyBundle: Sendable {
    var files: [(path: String, text: String)]
    var wallTimeSeconds: UInt64?

    /// A ConfigMap holds at most 1 MiB in all; the event shares it.
    static let maxBytes = 900 * 1024

    static func load(_ root: String, identity: String) throws(KubernetesLaunchError) -> PolicyBundle {
        let analysis: PolicyAnalysis
        do { analysis = try PolicyLoader().analyze(root) } catch { throw KubernetesLaunchError("policy: \(error)") }
        guard !analysis.hasErrors else {
            throw KubernetesLaunchError("the policy has errors now; run `warden lint \(TerminalText.escape(root))`")
        }
        let directory = root.lastIndex(of: "/").map { String(root[...$0]) } ?? "./"
        var files: [(path: String, text: String)] = []
        var total = 0
        for file in analysis.policy.files.reversed() {
            let path = file.source.path
            guard path.hasPrefix(directory) else {
                throw KubernetesLaunchError("policy include \(TerminalText.escape(path)) is outside the policy's directory \(TerminalText.escape(directory)); the Kubernetes executor ships only the files under it")
            }
            let relative = String(path.dropFirst(directory.count))
            let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
            guard !relative.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
                throw KubernetesLaunchError("policy file \(TerminalText.escape(path)) has no plain path under \(TerminalText.escape(directory))")
            }
            if files.contains(where: { $0.path == relative }) { continue }
            total += file.source.bytes.count
            files.append((relative, file.source.text))
        }
        guard total <= maxBytes else {
            throw KubernetesLaunchError("the policy's files hold \(total) bytes; a ConfigMap holds at most 1 MiB")
        }
        let wall: UInt64?
        do { wall = try EffectivePolicy(policy: analysis.policy, identity: identity).limits[.wallTime]?.value.amount } catch {
            throw KubernetesLaunchError("identity \(identity): \(error)")
        }
        return PolicyBundle(files: files, wallTimeSeconds: wall)
    }
}

/// Why one launch could not be carried out (before or around the Job).
public struct KubernetesLaunchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
