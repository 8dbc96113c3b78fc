import WardenKernel
import WardenPolicy

/// Options for a Kubernetes export.
public struct KubernetesExportOptions: Sendable {
    public var arch: Architecture
    /// Container paths for `${workspace}`, `${home}`, `${tmp}`.
    public var bindings: PathBindings
    public var image: String
    public var command: [String]
    /// uid/gid to run as when the identity holds no capabilities.
    public var uid: Int64
    public var gid: Int64
    /// The object that carries the pod spec (`warden compile` defaults to `.job`).
    public var kind: KubernetesWorkloadKind
    /// A Job's `ttlSecondsAfterFinished`: how long the finished Job and its logs stay.
    public var ttlSecondsAfterFinished: UInt32
    /// Also produce a `CiliumNetworkPolicy` with `toFQDNs` for the policy's domain rules.
    public var cilium: Bool

    public init(arch: Architecture = .native, bindings: PathBindings = PathBindings(workspace: "/workspace", home: "/home/agent", tmp: "/tmp"),
                image: String = "agent:latest", command: [String] = [], uid: Int64 = 65534, gid: Int64 = 65534,
                kind: KubernetesWorkloadKind = .podtemplate, ttlSecondsAfterFinished: UInt32 = 3600, cilium: Bool = false) {
        self.arch = arch
        self.bindings = bindings
        self.image = image
        self.command = command
        self.uid = uid
        self.gid = gid
        self.kind = kind
        self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
        self.cilium = cilium
    }
}

/// An identity as Kubernetes objects: a workload (`Job`, `Pod` or `PodTemplate`: its
/// securityContext, volumes and limits), a `NetworkPolicy`, a Security Profiles Operator
/// `SeccompProfile`, and the seccomp profile JSON for nodes without the operator.
public enum KubernetesExport {
    public static let engine = "k8s"
    public static let labelKey = "warden-identity"

    public struct Output: Sendable {
        /// The workload file: multi-document YAML with comments, the workload and the
        /// NetworkPolicy (for `.podtemplate`, the SeccompProfile between them, as before).
        public var yaml: String
        /// The SPO `SeccompProfile` alone (one document with comments), for clusters with the
        /// operator's CRD.
        public var seccompProfileYAML: String
        public var kind: KubernetesWorkloadKind
        /// The node's seccomp profile (for `/var/lib/kubelet/seccomp/<localhostProfile>`).
        public var nodeProfile: String
        /// `localhostProfile`, relative to the kubelet's seccomp directory.
        public var localhostProfile: String
        /// With `cilium`: the `CiliumNetworkPolicy` alone (one document with comments), or nil
        /// when the identity has no domain rule to allow.
        public var ciliumYAML: String?
        public var notes: [ExportNote]
    }

    /// The objects for `policy`, and what Kubernetes cannot express exactly. Throws when the
    /// identity is not a valid label value or the seccomp rules are too complex.
    public static func export(_ policy: EffectivePolicy, options o: KubernetesExportOptions) throws(ExportError) -> Output {
        var notes: [ExportNote] = []
        func note(_ k: ExportNote.Kind, _ m: String, _ at: String = "policy") { notes.append(ExportNote(k, engine: engine, m, at: at)) }
        let id = policy.identity
        guard isLabelValue(id) else {
            throw .invalidName(id, reason: "is not a valid Kubernetes label value (at most 63 letters, digits, `-`, `_`, `.`, starting and ending alphanumeric)")
        }
        let name = "warden-" + id.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? String($0) : "-" }.joined()
        if o.kind != .podtemplate { try checkObjectName(name, kind: o.kind, identity: id) }
        let profilePath = "warden/\(id).json"

        if let first = policy.http.first {
            note(.stricter, "HTTP rules need Warden's broker, which an export cannot carry: their hosts stay unreachable and no secret is injected", first.provenance.location)
        }
        let seccompPolicy = policy.seccompPolicy(arch: o.arch, notify: false)
        let profile: ExportValue, spoProfile: ExportValue
        do {
            profile = try OCISeccompExport.profile(seccompPolicy)
            spoProfile = try OCISeccompExport.profile(seccompPolicy, includeDefaultErrno: false)
            try OCISeccompExport.verifyAsRuntime(profile, policy: seccompPolicy)
        } catch { throw .seccomp(error.description) }

        // Capabilities and user.
        let caps = policy.grantedCapabilities
        let kubeCaps = caps.map { String($0.dropFirst(4)) }
        var pod: [(String, ExportValue)] = []
        if caps.isEmpty {
            pod += [("runAsNonRoot", .bool(true)), ("runAsUser", .int(o.uid)), ("runAsGroup", .int(o.gid))]
        } else {
            pod += [("runAsUser", .int(0)), ("runAsGroup", .int(0))]
        }
        let seccompRef = ExportValue.object([("type", .string("Localhost")), ("localhostProfile", .string(profilePath))])
        pod.append(("seccompProfile", seccompRef))

        // Filesystem.
        let fs = ExportFilesystem(policy, bindings: o.bindings)
        // A writable directory under the home (a cache) gets an emptyDir of its own below, so the
        // root filesystem can stay read-only.
        let homeWrites = fs.grants.filter { $0.place == .home && $0.access.contains(.write) && !$0.path.components.isEmpty }
        let systemWrites = fs.grants.filter { ($0.place == .system || $0.place == .home) && $0.access.contains(.write) }
            .filter { g in !homeWrites.contains { $0.path == g.path } }
        let readOnlyRoot = systemWrites.isEmpty
        if !readOnlyRoot {
            note(.weaker, "the policy lets the agent write to image paths (\(systemWrites.map(\.path.description).joined(separator: ", "))), so readOnlyRootFilesystem is false and every image path is writable")
        }
        note(.weaker, "a container image replaces Landlock's default deny: image files outside the allowed paths stay readable (and executable outside \(fs.paths(with: .exec))); build a minimal image")
        var mounts: [ExportValue] = []
        var volumes: [ExportValue] = []
        if let ws = fs.grants.first(where: { $0.place == .workspace && $0.path.components.isEmpty }) {
            var m: [(String, ExportValue)] = [("name", .string("workspace")), ("mountPath", .string(ws.expanded))]
            if !ws.access.contains(.write) { m.append(("readOnly", .bool(true))) }
            mounts.append(.object(m))
            volumes.append(.object([("name", .string("workspace")), ("emptyDir", .object([]))]))
        }
        if let tmp = fs.grants.first(where: { $0.place == .tmp && $0.path.components.isEmpty }) {
            var m: [(String, ExportValue)] = [("name", .string("tmp")), ("mountPath", .string(tmp.expanded))]
            if !tmp.access.contains(.write) { m.append(("readOnly", .bool(true))) }
            mounts.append(.object(m))
            volumes.append(.object([("name", .string("tmp")), ("emptyDir", .object([]))]))
        }
        for step in fs.mounts {
            let at = step.provenance.first?.location ?? "policy"
            switch step.kind {
            case .readOnly where step.path.base == .workspace && !volumes.isEmpty:
                mounts.append(.object([("name", .string("workspace")), ("mountPath", .string(o.bindings.expand(step.path))),
                                       ("subPath", .string(step.path.components.joined(separator: "/"))), ("readOnly", .bool(true))]))
            case .readOnly:
                if !readOnlyRoot { note(.weaker, "deny write \(step.path): Kubernetes has no readonlyPaths for image paths", at) }
            case .mask:
                note(.weaker, "deny read \(step.path): Kubernetes has no maskedPaths; the path stays readable if the image or a volume has it", at)
            case .noExec:
                note(.weaker, "deny exec \(step.path): Kubernetes cannot mount a path noexec", at)
            }
        }

        for (i, g) in homeWrites.enumerated() {
            mounts.append(.object([("name", .string("home-\(i)")), ("mountPath", .string(g.expanded))]))
            volumes.append(.object([("name", .string("home-\(i)")), ("emptyDir", .object([]))]))
            if !g.access.contains(.exec) { note(.weaker, "\(g.path): an emptyDir of its own, which Kubernetes cannot mount noexec", g.location) }
        }

        // Limits.
        var limits: [(String, ExportValue)] = []
        var deadline: UInt64?
        for kind in LimitKind.allCases {
            guard let g = policy.limits[kind] else { continue }
            let at = g.provenance.location
            switch kind {
            case .memory: limits.append(("memory", .string(String(g.value.amount))))
            case .wallTime: deadline = g.value.amount
            case .processes:
                note(.weaker, "limit processes \(g.value.amount): a Pod has no per-pod pids limit (the kubelet's podPidsLimit is node-wide)", at)
            case .openFiles, .fileSize, .cpuTime, .addressSpace:
                note(.weaker, "limit \(kind.rawValue) \(g.value.canonical): the Pod API has no rlimits", at)
            }
        }

        var containerSC: [(String, ExportValue)] = [
            ("allowPrivilegeEscalation", .bool(false)),
            ("privileged", .bool(false)),
            ("readOnlyRootFilesystem", .bool(readOnlyRoot)),
            ("capabilities", .object([("drop", .array([.string("ALL")])), ("add", .array(kubeCaps.map { .string($0) }))])),
            ("seccompProfile", seccompRef),
        ]
        if caps.isEmpty { containerSC.insert(("runAsNonRoot", .bool(true)), at: 0) }
        var env: [ExportValue] = policy.envSet.map { .object([("name", .string($0.name)), ("value", .string(o.bindings.expand(envValue: $0.value)))]) }
        env.append(.object([("name", .string("TMPDIR")), ("value", .string(o.bindings.tmp))]))
        var container: [(String, ExportValue)] = [("name", .string("agent")), ("image", .string(o.image))]
        if !o.command.isEmpty { container.append(("command", .array(o.command.map { .string($0) }))) }
        container += [("workingDir", .string(o.bindings.workspace)), ("env", .array(env)), ("securityContext", .object(containerSC))]
        if !limits.isEmpty { container.append(("resources", .object([("limits", .object(limits))]))) }
        if !mounts.isEmpty { container.append(("volumeMounts", .array(mounts))) }

        var spec: [(String, ExportValue)] = []
        if let deadline { spec.append(("activeDeadlineSeconds", .int(Int64(clamping: deadline)))) }
        spec += [("automountServiceAccountToken", .bool(false)), ("enableServiceLinks", .bool(false)),
                 ("hostNetwork", .bool(false)), ("hostPID", .bool(false)), ("hostIPC", .bool(false)),
                 ("securityContext", .object(pod)), ("containers", .array([.object(container)]))]
        if !volumes.isEmpty { spec.append(("volumes", .array(volumes))) }

        let networkPolicy = self.networkPolicy(policy, name: name, domainsElsewhere: o.cilium, note: note)
        let cilium = o.cilium ? ciliumNetworkPolicy(policy, name: name, note: note) : nil
        let labels = ExportValue.object([(labelKey, .string(id))])
        var annotations: [(String, ExportValue)] = [("warden/identity", .string(id))]
        for kind in [ExportNote.Kind.weaker, .stricter] {
            let list = notes.filter { $0.kind == kind }
            if !list.isEmpty { annotations.append(("warden/\(kind.rawValue)", .string(list.map { "\($0.location): \($0.message)" }.joined(separator: " | ")))) }
        }
        let metadata = ExportValue.object([("name", .string(name)), ("labels", labels), ("annotations", .object(annotations))])
        let workloadObject = workload(o.kind, metadata: metadata, labels: labels, spec: spec, ttlSecondsAfterFinished: o.ttlSecondsAfterFinished)
        let spo = ExportValue.object([
            ("apiVersion", .string("security-profiles-operator.x-k8s.io/v1beta1")), ("kind", .string("SeccompProfile")),
            ("metadata", .object([("name", .string(name)), ("labels", labels)])),
            ("spec", spoProfile),
        ])

        let generated = "# Generated by `warden compile --emit k8s` for identity \(id); regenerate rather than edit.\n"
        var yaml = generated
        for n in notes { yaml += "# \(n.kind.rawValue.uppercased()): \(n.location): \(n.message)\n" }
        if !caps.isEmpty {
            yaml += "# The pod runs as uid 0 because Kubernetes has no ambient capabilities (\(kubeCaps.joined(separator: ", ")) reach only uid 0);\n"
            yaml += "# it holds no other capability, like `warden run` started by root.\n"
        }
        yaml += usageComment(o.kind, name: name, profilePath: profilePath, ttl: o.ttlSecondsAfterFinished) + "---\n"
        yaml += workloadObject.yaml()
        let spoComment = "# Security Profiles Operator: the same profile (defaultAction ERRNO returns EPERM).\n"
        if o.kind == .podtemplate { yaml += "---\n" + spoComment + spo.yaml() }
        yaml += "---\n" + networkPolicyComments(policy) + networkPolicy.yaml()
        let spoYAML = generated
            + "# Security Profiles Operator: the rules of seccomp/\(profilePath) (defaultAction ERRNO returns EPERM).\n"
            + "# Apply only where the operator's CRD is installed; it installs the profile on every node as\n"
            + "# operator/<namespace>/\(name).json: set the workload's localhostProfile to that.\n---\n" + spo.yaml()
        let ciliumYAML = cilium.map { generated + ciliumComments + "---\n" + $0.yaml() }
        return Output(yaml: yaml, seccompProfileYAML: spoYAML, kind: o.kind, nodeProfile: profile.json(), localhostProfile: profilePath,
                      ciliumYAML: ciliumYAML, notes: notes)
    }

    /// A Kubernetes label value: at most 63 characters, alphanumerics with `-_.` inside.
    static func isLabelValue(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 63 else { return false }
        let ok = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber) }
        guard let f = s.first, let l = s.last, ok(f), ok(l) else { return false }
        return s.allSatisfy { ok($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }
}
