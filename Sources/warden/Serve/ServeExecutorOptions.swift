import ArgumentParser
import WardenKernel
import WardenKubernetes
import WardenPolicy
import WardenRuntime
import WardenServe
#if canImport(Glibc)
import Glibc
#endif

/// Where `warden serve` runs its launches: `local` (a `warden run` child on this host) or
/// `kubernetes` (a Job per run whose container runs `warden run`; docs/serve.md).
enum ServeExecutorKind: String, ExpressibleByArgument, CaseIterable {
    case local, kubernetes
}

/// `warden serve`'s executor options.
struct ServeExecutorOptions: ParsableArguments {
    @Option(help: "Where runs go: local (a `warden run` child here) or kubernetes (a Job per run).")
    var executor: ServeExecutorKind = .local

    @Option(name: .customLong("k8s-api-server"), help: "The Kubernetes API server's URL (default: in-cluster, from KUBERNETES_SERVICE_HOST/PORT).")
    var apiServer: String?

    @Option(name: .customLong("k8s-namespace"), help: "The namespace the runs' Jobs go to (default: the service account's, else default).")
    var namespace: String?

    @Option(name: .customLong("k8s-token-file"), help: "A file holding the bearer token, read for each request (default: the service account's token).")
    var tokenFile: String?

    @Option(name: .customLong("k8s-ca-file"), help: "PEM bundle the API server's certificate must chain to (default: the service account's ca.crt).")
    var caFile: String?

    @Option(name: .customLong("k8s-image"), help: "The image of the runs' pods: it holds `warden`, /bin/sh and git (required with --executor kubernetes).")
    var image: String?

    @Option(name: .customLong("k8s-warden-path"), help: "`warden` inside the image.")
    var wardenPath = "warden"

    @Option(name: .customLong("k8s-ttl"), help: "Seconds a finished Job (and its pod's log) is kept (ttlSecondsAfterFinished).")
    var ttl: Int64 = 3600

    func validate() throws {
        let given = [apiServer, namespace, tokenFile, caFile, image].contains { $0 != nil }
        if executor == .local, given {
            throw ValidationError("the --k8s-* options go with --executor kubernetes")
        }
        if [apiServer, namespace, tokenFile, caFile, image].contains(where: { $0 == "" }) || wardenPath.isEmpty {
            throw ValidationError("a --k8s-* option is empty")
        }
        guard (0...Int64(Int32.max)).contains(ttl) else { throw ValidationError("--k8s-ttl: 0 to \(Int32.max)") }
        if executor == .kubernetes, image == nil {
            throw ValidationError("--executor kubernetes needs --k8s-image IMAGE (an image with warden, /bin/sh and git)")
        }
        if let image, image.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            throw ValidationError("--k8s-image: no spaces or control characters")
        }
    }

    /// The Kubernetes executor, or nil for `local`. Throws (exit 2) when the connection cannot
    /// be resolved or its files cannot be read.
    func kubernetes(state: String, timeout: String?, logPath: String, signingKeyPath: String?,
                    policy: @escaping @Sendable () -> ServePolicy) throws(FleetError) -> KubernetesExecutor? {
        guard executor == .kubernetes, let image else { return nil }
        let environment = HostFacts.environment()
        let api: KubernetesHTTPClient
        do {
            let connection = try KubernetesConnection.resolve(
                server: apiServer, namespace: namespace, tokenFile: tokenFile.map(HostFacts.absolute), caFile: caFile.map(HostFacts.absolute),
                environment: environment, exists: { access($0, R_OK) == 0 },
                readNamespace: { path in
                    (try? BoundedFileReader.read(path, limit: 256)).map { String(decoding: $0, as: UTF8.self).filter { !$0.isWhitespace } }
                })
            api = try KubernetesHTTPClient(connection: connection)
        } catch {
            throw FleetError(error.description)
        }
        var timeoutSeconds: Int64?
        if let timeout, case .success(let v) = LimitValue.parseDuration(timeout) { timeoutSeconds = Int64(clamping: v.amount) }
        let settings = KubernetesExecutor.Settings(namespace: api.connection.namespace, image: image, wardenPath: wardenPath,
                                                   timeoutSeconds: timeoutSeconds, ttlSecondsAfterFinished: ttl)
        return KubernetesExecutor(api: api, settings: settings, stateDirectory: state,
                                  recorder: RemoteRunRecorder(logPath: logPath, signingKeyPath: signingKeyPath), policy: policy)
    }
}
