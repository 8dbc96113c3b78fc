import WardenCompiler
#if canImport(Glibc)
import Glibc
#endif

/// The operator's switches over `warden serve`, as files in its state directory (so a local
/// operator, a script or a configuration manager can set them without a credential):
/// - `STATE/paused`: nothing new starts; deliveries are still decided and queued.
/// - `STATE/kill-switch/IDENTITY`: identity IDENTITY is stopped: its deliveries are refused,
///   its queued runs wait, and its running runs are stopped (SIGTERM, then the run's grace
///   period), each recorded (`KillSwitchWatcher`).
public struct KillSwitch: Sendable {
    public let pausePath: String
    public let directory: String

    public init(stateDirectory: String) {
        pausePath = stateDirectory + "/paused"
        directory = stateDirectory + "/kill-switch"
    }

    /// Whether `STATE/paused` exists.
    public var paused: Bool {
        var st = stat()
        return lstat(pausePath, &st) == 0
    }

    /// The identities whose switch is set: the names of the entries of `STATE/kill-switch`
    /// (any kind of entry; names that cannot be identities are ignored). At most 10,000.
    public func stoppedIdentities() -> Set<String> {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: Set<String> = []
        while names.count < 10_000, let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if Self.isIdentityName(name) { names.insert(name) }
        }
        return names
    }

    /// Letters, digits, `-`, `_` and `.`, not starting with `.`, at most 128 bytes: a file
    /// name that can name a policy identity (and never `.` or `..`).
    static func isIdentityName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 128, name.utf8.first != UInt8(ascii: ".") else { return false }
        return name.utf8.allSatisfy(ServeTokens.isNameByte)
    }
}

extension TriggerDecision {
    /// This decision with the kill switch applied: no launch of a stopped identity; when that
    /// leaves none, a refusal that says so.
    func holding(_ stopped: Set<String>) -> TriggerDecision {
        guard !stopped.isEmpty, launches.contains(where: { stopped.contains($0.identity) }) else { return self }
        var held = self
        let names = Set(launches.map(\.identity)).intersection(stopped).sorted()
        held.launches.removeAll { stopped.contains($0.identity) }
        if held.launches.isEmpty {
            held.reason = "the kill switch has stopped identity \(names.joined(separator: ", ")) (kill-switch/\(names[0]) in the server's state directory)"
        }
        return held
    }
}
