#if canImport(Glibc)
import Glibc
#endif

/// Makes the run's certificate authority trusted inside the agent's world, so TLS clients
/// accept the broker's certificates without proxy settings: the host's bundle plus the run
/// CA, shown read-only at the system bundle's path when the world holds it (else as a file
/// in the agent's `/tmp`), and named by the variables common TLS stacks read.
///
/// Only the agent's view changes: the broker verifies upstream servers against the host's
/// own trust store, so a CA the agent adds or a bundle it edits cannot make Warden trust
/// anything.
struct AgentTrustStore {
    /// Debian's (and most distributions') system bundle, read by OpenSSL, GnuTLS and curl.
    static let systemBundle = "/etc/ssl/certs/ca-certificates.crt"
    /// Variables naming a CA bundle: OpenSSL (and Python's ssl, Ruby, ...), Python
    /// requests and pip, curl, git, Node.js (added to its built-in roots).
    static let variables = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS"]
    /// The bundle's name in the agent's `/tmp` when the world has no system bundle.
    static let fallbackName = ".warden-ca-bundle.crt"

    /// The private directory holding the bundle (removed after the run), if one was made.
    let directory: String?
    /// The mount that shows the bundle at `systemBundle`, if the world holds that path.
    let mounts: [MountOperation]
    /// `NAME=PATH` entries for the agent's environment.
    let environment: [String]

    enum Failure: Error, CustomStringConvertible {
        case write(String, Int32)
        var description: String {
            switch self {
            case .write(let path, let e): return "cannot write the run's CA bundle \(path): \(String(cString: strerror(e)))"
            }
        }
    }

    /// Writes the bundle for a run whose world `plan` describes.
    static func install(certificateAuthorityPEM pem: String, plan: AgentLaunchPlan) throws(Failure) -> AgentTrustStore {
        let host = readSmallFile(systemBundle, limit: 16 << 20) ?? ""
        let bundle = host + (host.isEmpty || host.hasSuffix("\n") ? "" : "\n") + pem + (pem.hasSuffix("\n") ? "" : "\n")
        let inWorld = AgentLaunchPlan.resolve(systemBundle).map { plan.agentCanRead($0) } ?? false
        if inWorld, let target = AgentLaunchPlan.resolve(systemBundle) {
            guard let dir = RunDirectory.create(runID: "ca") else { throw .write("under /tmp", errno) }
            _ = chmod(dir, 0o711)
            let file = dir + "/ca-certificates.crt"
            do { try writeNew(file, bundle) } catch { RunDirectory.remove(dir); throw error }
            return AgentTrustStore(directory: dir, mounts: [.bindFile(source: file, target: target)],
                                   environment: variables.map { "\($0)=\(systemBundle)" })
        }
        // No system bundle in the world: a copy in the agent's own /tmp (only the agent's
        // view depends on it, so its being writable there costs nothing).
        try writeNew(plan.hostTmp + "/" + fallbackName, bundle)
        let path = AgentWorld.agentTmp + "/" + fallbackName
        return AgentTrustStore(directory: nil, mounts: [], environment: variables.map { "\($0)=\(path)" })
    }

    /// Removes the private directory.
    func remove() {
        if let directory { RunDirectory.remove(directory) }
    }

    private static func writeNew(_ path: String, _ text: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .write(path, errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .write(path, errno) }
            done += n
        }
    }
}
