/// One request to the Kubernetes API server: a method, a path under the server's URL (with
/// its query), and a JSON body for writes.
public struct KubernetesRequest: Sendable, Equatable {
    public var method: String
    /// Starts with `/`, e.g. `/apis/batch/v1/namespaces/agents/jobs`.
    public var path: String
    public var body: [UInt8]?

    public init(method: String, path: String, body: [UInt8]? = nil) {
        self.method = method
        self.path = path
        self.body = body
    }
}

/// The API server's answer: the status and the body (bounded by the client).
public struct KubernetesResponse: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// What the executor needs of the API server: one call, synchronous (the serve workers run
/// launches on threads of their own). The production client is `KubernetesHTTPClient`
/// (AsyncHTTPClient); tests give a fake server or a recording stub.
public protocol KubernetesAPI: Sendable {
    /// Sends `request`; throws only when no answer came (unreachable, timeout, TLS, a body
    /// over the limit). Any HTTP status is an answer.
    func send(_ request: KubernetesRequest) throws(KubernetesError) -> KubernetesResponse
}

/// Why the executor could not use the API server.
public enum KubernetesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No usable connection settings (no server, no token, unreadable CA).
    case configuration(String)
    /// No answer: connection refused, DNS, TLS, timeout.
    case unreachable(String)
    /// An answer that is not the one the operation needs (`what` names the operation).
    case status(what: String, status: Int, message: String)
    /// An answer that cannot be read.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .configuration(let m): return "kubernetes: \(m)"
        case .unreachable(let m): return "kubernetes API server unreachable: \(m)"
        case .status(let what, let status, let message):
            var hint = ""
            if status == 401 { hint = " (the bearer token was refused: check --k8s-token-file)" }
            if status == 403 { hint = " (the service account lacks a permission: see docs/serve.md, \"RBAC\")" }
            return "kubernetes: \(what): HTTP \(status)\(hint)\(message.isEmpty ? "" : ": \(message)")"
        case .invalidResponse(let m): return "kubernetes: unreadable answer: \(m)"
        }
    }
}
