import WardenKernel

/// Where and how to reach the API server: its URL, the namespace the runs go to, the bearer
/// token file (read again for every request: service-account tokens are rotated) and the CA
/// bundle the server's certificate must chain to.
public struct KubernetesConnection: Sendable, Equatable {
    /// `https://HOST:PORT` (or `http://` for a local proxy such as `kubectl proxy`), no trailing `/`.
    public var server: String
    public var namespace: String
    public var tokenFile: String?
    public var caFile: String?

    /// The service account's files when the server runs in a pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    public init(server: String, namespace: String, tokenFile: String?, caFile: String?) {
        self.server = server
        self.namespace = namespace
        self.tokenFile = tokenFile
        self.caFile = caFile
    }

    /// The connection from the options, falling back to the in-cluster defaults: the server
    /// from `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`, the token, CA and namespace
    /// from the service account's directory (`exists` says whether a file is there).
    public static func resolve(server: String?, namespace: String?, tokenFile: String?, caFile: String?,
                               environment: [String: String], exists: (String) -> Bool,
                               readNamespace: (String) -> String?) throws(KubernetesError) -> KubernetesConnection {
        let sa = serviceAccountDirectory
        var url = server
        if url == nil, let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            let port = environment["KUBERNETES_SERVICE_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "443"
            url = "https://" + (host.contains(":") ? "[\(host)]" : host) + ":" + port
        }
        guard var url else {
            throw .configuration("no API server: give --k8s-api-server URL, or run inside a pod (KUBERNETES_SERVICE_HOST is not set)")
        }
        while url.hasSuffix("/") { url.removeLast() }
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), url.utf8.count > 8,
              !url.dropFirst(url.hasPrefix("https://") ? 8 : 7).contains("/"),
              !url.contains("@"), !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            throw .configuration("--k8s-api-server: expected https://HOST[:PORT] (no path, no credentials), got \(TerminalText.escape(url))")
        }
        let token = tokenFile ?? (exists(sa + "/token") ? sa + "/token" : nil)
        let ca = caFile ?? (url.hasPrefix("https://") && exists(sa + "/ca.crt") ? sa + "/ca.crt" : nil)
        if url.hasPrefix("https://"), token == nil {
            throw .configuration("no bearer token: give --k8s-token-file FILE (\(sa)/token does not exist)")
        }
        let ns = namespace ?? readNamespace(sa + "/namespace") ?? "default"
        guard isDNSLabel(ns) else {
            throw .configuration("namespace \(TerminalText.escape(ns)) is not a DNS label (lowercase letters, digits and '-', at most 63)")
        }
        return KubernetesConnection(server: url, namespace: ns, tokenFile: token, caFile: ca)
    }

    /// A DNS-1123 label: what a namespace must be.
    static func isDNSLabel(_ s: String) -> Bool {
        let b = Array(s.utf8)
        let ok = { (c: UInt8) in (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) }
        guard let f = b.first, let l = b.last, b.count <= 63, ok(f), ok(l) else { return false }
        return b.allSatisfy { ok($0) || $0 == 0x2D }
    }
}
