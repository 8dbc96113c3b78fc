import WardenAudit

/// What one run needs in the cluster, before it becomes objects.
public struct KubernetesRunSpec: Sendable, Equatable {
    /// The queue's id of the run.
    public var queueID: Int64
    /// Random hex: part of the objects' names and of the log markers.
    public var nonce: String
    public var namespace: String
    public var image: String
    /// `warden` inside the image (a path, or a name found through `PATH`).
    public var wardenPath: String
    public var trigger: String
    public var identity: String
    public var decision: String
    public var repository: String?
    /// The policy's files, relative to the root file's directory (the root first), and
    /// their text.
    public var policyFiles: [(path: String, text: String)]
    /// The event document, exactly as the server stored it.
    public var event: String
    /// `workspace clone`: the event's repository (`https`) and commit.
    public var clone: (url: String, commit: String)?
    /// The trigger's `run` argv.
    public var command: [String]
    /// `warden run --timeout` inside the pod (seconds), when the server has `--timeout`.
    public var runTimeoutSeconds: Int64?
    public var activeDeadlineSeconds: Int64
    public var ttlSecondsAfterFinished: Int64

    public static func == (a: Self, b: Self) -> Bool {
        a.queueID == b.queueID && a.nonce == b.nonce && a.namespace == b.namespace && a.image == b.image
            && a.policyFiles.map { $0.path } == b.policyFiles.map { $0.path } && a.policyFiles.map { $0.text } == b.policyFiles.map { $0.text }
            && a.event == b.event && a.command == b.command && a.clone?.url == b.clone?.url && a.clone?.commit == b.clone?.commit
    }

    public init(queueID: Int64, nonce: String, namespace: String, image: String, wardenPath: String = "warden",
                trigger: String, identity: String, decision: String, repository: String?,
                policyFiles: [(path: String, text: String)], event: String, clone: (url: String, commit: String)?,
                command: [String], runTimeoutSeconds: Int64?, activeDeadlineSeconds: Int64, ttlSecondsAfterFinished: Int64 = 3600) {
        self.queueID = queueID
        self.nonce = nonce
        self.namespace = namespace
        self.image = image
        self.wardenPath = wardenPath
        self.trigger = trigger
        self.identity = identity
        self.decision = decision
        self.repository = repository
        self.policyFiles = policyFiles
        self.event = event
        self.clone = clone
        self.command = command
        self.runTimeoutSeconds = runTimeoutSeconds
        self.activeDeadlineSeconds = activeDeadlineSeconds
        self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
    }

    /// The Job's and the ConfigMap's name: `warden-run-<queue id>-<nonce>` (a DNS label).
    public var name: String { "warden-run-\(queueID)-\(nonce)" }
}

/// The objects of one run: a ConfigMap (the policy files and the event) and a Job whose init
/// container clones the workspace and whose `warden` container runs `warden run` under the
/// policy, then prints the run's audit log between markers on its standard output.
///
/// Nothing from the event, the repository or the policy is ever put into a shell script: the
/// two scripts are constants and every value reaches them as a separate argv element (`"$1"`,
/// `"$@"`); the objects are JSON built from typed values, never text templates.
public enum KubernetesRunObjects {
    /// Where the ConfigMap is mounted in the pod.
    public static let filesDirectory = "/etc/warden-run"
    public static let workspace = "/workspace"
    /// The `warden` container's private state: the run's audit log and Warden's state.
    public static let stateDirectory = "/var/run/warden-k8s"
    public static let auditLog = stateDirectory + "/audit.jsonl"
    public static let mainContainer = "warden"
    public static let managedByLabel = "app.kubernetes.io/managed-by"
    public static let queueLabel = "warden-queue-id"

    /// Runs `"$@"` (`warden run …`) with its output to a file, then prints, on the pod's log:
    /// `warden-audit-begin NONCE`, the audit log, `warden-audit-end NONCE exit=STATUS`,
    /// `warden-output-begin NONCE`, and the first MiB of the run's output. Exits 0: the Job
    /// fails only when the run could not be carried out (clone, deadline, image), never
    /// because the agent's command failed (its status is in the marker and the chain).
    static let runScript = """
        m="$1"; shift
        "$@" >\(stateDirectory)/output.log 2>&1
        s=$?
        printf 'warden-audit-begin %s\\n' "$m"
        cat \(auditLog) 2>/dev/null
        printf 'warden-audit-end %s exit=%s\\n' "$m" "$s"
        printf 'warden-output-begin %s\\n' "$m"
        head -c 1048576 \(stateDirectory)/output.log
        exit 0
        """

    /// Clones `$1` into the workspace (hooks off, no `ext::` or `file://` transport) and checks
    /// out commit `$2` detached, fetching it by id when no branch has it.
    static let cloneScript = """
        set -eu
        git -c core.hooksPath=/dev/null -c protocol.ext.allow=never -c protocol.file.allow=never clone --no-checkout --quiet -- "$1" \(workspace)
        cd \(workspace)
        if ! git -c core.hooksPath=/dev/null checkout --quiet --detach "$2" 2>/dev/null; then
          git -c protocol.ext.allow=never -c protocol.file.allow=never fetch --quiet origin "$2"
          git -c core.hooksPath=/dev/null checkout --quiet --detach "$2"
        fi
        """

    /// `warden run`'s argv inside the pod.
    public static func wardenArguments(_ s: KubernetesRunSpec) -> [String] {
        var a = [s.wardenPath, "run", "--policy", filesDirectory + "/policy/" + (s.policyFiles.first?.path ?? "policy.warden"),
                 "--identity", s.identity, "--workspace", workspace, "--quiet",
                 "--trigger", s.trigger, "--trigger-decision", s.decision, "--event", filesDirectory + "/event.json",
                 "--audit-log", auditLog]
        if let t = s.runTimeoutSeconds { a += ["--timeout", "\(t)s"] }
        return a + ["--"] + s.command
    }

    static func labels(_ s: KubernetesRunSpec) -> AuditValue {
        .object([managedByLabel: "warden-serve", queueLabel: .string(String(s.queueID)),
                 "warden-trigger": .string(labelValue(s.trigger)), "warden-identity": .string(labelValue(s.identity))])
    }

    static func metadata(_ s: KubernetesRunSpec) -> AuditValue {
        var annotations: [String: AuditValue] = ["warden/trigger": .string(s.trigger), "warden/identity": .string(s.identity),
                                                 "warden/trigger-decision": .string(s.decision)]
        if let r = s.repository { annotations["warden/repository"] = .string(r) }
        if let c = s.clone { annotations["warden/commit"] = .string(c.commit) }
        return .object(["name": .string(s.name), "namespace": .string(s.namespace), "labels": labels(s),
                        "annotations": .object(annotations)])
    }

    /// The ConfigMap: `policy-N` keys for the policy's files, `event.json` for the event.
    public static func configMap(_ s: KubernetesRunSpec) -> AuditValue {
        var data: [String: AuditValue] = ["event.json": .string(s.event)]
        for (i, f) in s.policyFiles.enumerated() { data["policy-\(i)"] = .string(f.text) }
        return .object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(s), "data": .object(data), "immutable": true])
    }

    /// The Job.
    public static func job(_ s: KubernetesRunSpec) -> AuditValue {
        let dropAll: AuditValue = ["drop": ["ALL"]]
        var items: [AuditValue] = [["key": "event.json", "path": "event.json"]]
        for (i, f) in s.policyFiles.enumerated() { items.append(["key": .string("policy-\(i)"), "path": .string("policy/" + f.path)]) }
        let volumes: AuditValue = [
            ["name": "run-files", "configMap": ["name": .string(s.name), "items": .array(items)]],
            ["name": "workspace", "emptyDir": [:]],
            ["name": "warden-state", "emptyDir": [:]],
            ["name": "tmp", "emptyDir": [:]],
        ]
        let env: AuditValue = [["name": "WARDEN_STATE_DIR", "value": .string(stateDirectory + "/state")],
                               ["name": "HOME", "value": "/tmp"], ["name": "TMPDIR", "value": "/tmp"]]
        // `warden run` builds the agent's world itself (user, mount, PID namespaces, Landlock,
        // its own seccomp filter): the runtime's default profile would refuse the user
        // namespace, so this container's profile is Unconfined and the policy's filter is
        // the one the agent gets.
        let main: AuditValue = [
            "name": .string(mainContainer), "image": .string(s.image),
            "command": ["/bin/sh", "-c", .string(runScript), "warden-k8s", .string(s.nonce)],
            "args": .strings(wardenArguments(s)),
            "workingDir": .string(workspace), "env": env,
            "securityContext": ["allowPrivilegeEscalation": false, "privileged": false, "readOnlyRootFilesystem": true,
                                "runAsNonRoot": true, "capabilities": dropAll, "seccompProfile": ["type": "Unconfined"]],
            "volumeMounts": [["name": "run-files", "mountPath": .string(filesDirectory), "readOnly": true],
                             ["name": "workspace", "mountPath": .string(workspace)],
                             ["name": "warden-state", "mountPath": .string(stateDirectory)],
                             ["name": "tmp", "mountPath": "/tmp"]],
        ]
        var podSpec: [String: AuditValue] = [
            "restartPolicy": "Never", "automountServiceAccountToken": false, "enableServiceLinks": false,
            "hostNetwork": false, "hostPID": false, "hostIPC": false,
            "securityContext": ["runAsNonRoot": true, "runAsUser": 65534, "runAsGroup": 65534, "fsGroup": 65534,
                                "seccompProfile": ["type": "RuntimeDefault"]],
            "containers": [main], "volumes": volumes,
        ]
        if let clone = s.clone {
            podSpec["initContainers"] = [[
                "name": "prepare-workspace", "image": .string(s.image),
                "command": ["/bin/sh", "-c", .string(cloneScript), "warden-k8s-clone"],
                "args": [.string(clone.url), .string(clone.commit)],
                "env": [["name": "HOME", "value": "/tmp"], ["name": "GIT_TERMINAL_PROMPT", "value": "0"],
                        ["name": "GIT_CONFIG_NOSYSTEM", "value": "1"]],
                "securityContext": ["allowPrivilegeEscalation": false, "privileged": false, "readOnlyRootFilesystem": true,
                                    "runAsNonRoot": true, "capabilities": dropAll],
                "volumeMounts": [["name": "workspace", "mountPath": .string(workspace)], ["name": "tmp", "mountPath": "/tmp"]],
            ]]
        }
        return .object([
            "apiVersion": "batch/v1", "kind": "Job", "metadata": metadata(s),
            "spec": ["backoffLimit": 0, "activeDeadlineSeconds": .int(s.activeDeadlineSeconds),
                     "ttlSecondsAfterFinished": .int(min(s.ttlSecondsAfterFinished, Int64(Int32.max))),
                     "template": ["metadata": ["labels": labels(s)], "spec": .object(podSpec)]],
        ])
    }

    /// `value` as a Kubernetes label value: letters, digits, `-_.` inside, alphanumeric at
    /// both ends, at most 63 characters (others become `-`; the exact value is in the
    /// annotations).
    static func labelValue(_ value: String) -> String {
        let alnum = { (c: UInt8) in (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }
        var bytes = value.utf8.map { alnum($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E ? $0 : 0x2D }
        if bytes.count > 63 { bytes = Array(bytes.prefix(63)) }
        while let f = bytes.first, !alnum(f) { bytes.removeFirst() }
        while let l = bytes.last, !alnum(l) { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
