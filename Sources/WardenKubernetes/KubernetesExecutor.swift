import Synchronization
import WardenAudit
import WardenKernel
import WardenPolicy
import WardenRuntime
import WardenServe
#if canImport(Glibc)
import Glibc
#endif

/// `warden serve --executor kubernetes`: runs each launch as a Job whose container runs
/// `warden run` (docs/serve.md, "The Kubernetes executor").
///
/// Per run: create the ConfigMap (policy files, event) and the Job; poll the Job until it
/// completes, fails or outlives its deadline; read the `warden` container's log through the
/// API; take the run's audit chain from between the markers, verify it (`PodChain`) and
/// record the result as `run.remote` in the server's log; delete the ConfigMap (the Job is
/// left to its `ttlSecondsAfterFinished`). On stop, a running Job is deleted (propagation
/// Background) and the run recorded interrupted.
public final class KubernetesExecutor: Sendable {
    public struct Settings: Sendable {
        public var namespace: String
        public var image: String
        /// `warden` in the image.
        public var wardenPath: String
        /// `warden serve --timeout` in seconds.
        public var timeoutSeconds: Int64?
        /// The Job's deadline when neither `--timeout` nor `limit wall-time` gives one.
        public var defaultDeadlineSeconds: Int64
        /// Added to the run's own limit for the Job's `activeDeadlineSeconds`: pulling the
        /// image, cloning, printing the log.
        public var setupSeconds: Int64
        public var ttlSecondsAfterFinished: Int64
        /// Between two looks at the Job.
        public var pollMilliseconds: Int64
        /// Consecutive failed looks at the Job (no answer, 5xx) before the run is given up.
        public var pollAttempts: Int
        /// `limitBytes` of the pod log read.
        public var logLimit: Int

        public init(namespace: String, image: String, wardenPath: String = "warden", timeoutSeconds: Int64? = nil,
                    defaultDeadlineSeconds: Int64 = 6 * 3600, setupSeconds: Int64 = 600, ttlSecondsAfterFinished: Int64 = 3600,
                    pollMilliseconds: Int64 = 2000, pollAttempts: Int = 5, logLimit: Int = 48 << 20) {
            self.namespace = namespace
            self.image = image
            self.wardenPath = wardenPath
            self.timeoutSeconds = timeoutSeconds
            self.defaultDeadlineSeconds = defaultDeadlineSeconds
            self.setupSeconds = setupSeconds
            self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
            self.pollMilliseconds = pollMilliseconds
            self.pollAttempts = pollAttempts
            self.logLimit = logLimit
        }
    }

    let api: any KubernetesAPI
    public let settings: Settings
    let stateDirectory: String
    let recorder: RemoteRunRecorder
    let policy: @Sendable () -> ServePolicy
    private let stopping = Atomic<Bool>(false)
    /// Runs going (queue id → identity) and those a kill switch stopped.
    private let going = Mutex<(identities: [Int64: String], stopped: Set<Int64>)>(([:], []))

    public init(api: any KubernetesAPI, settings: Settings, stateDirectory: String, recorder: RemoteRunRecorder,
                policy: @escaping @Sendable () -> ServePolicy) {
        self.api = api
        self.settings = settings
        self.stateDirectory = stateDirectory
        self.recorder = recorder
        self.policy = policy
    }

    public static let stoppingMessage = "not launched: the server is stopping"

    /// Starts no more runs; every run going deletes its Job at its next look and records
    /// itself interrupted.
    public func stopAll() { stopping.store(true, ordering: .sequentiallyConsistent) }

    private var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    /// Stops every run of `identity` going (the kill switch): each deletes its Job at its next
    /// look and records itself interrupted. Their queue ids.
    public func stop(identity: String) -> [Int64] {
        going.withLock { g in
            let ids = g.identities.filter { $0.value == identity && !g.stopped.contains($0.key) }.map(\.key).sorted()
            g.stopped.formUnion(ids)
            return ids
        }
    }

    private func isStopped(_ queueID: Int64) -> Bool {
        isStopping || going.withLock { $0.stopped.contains(queueID) }
    }

    var namespacePath: String { "/api/v1/namespaces/" + settings.namespace }
    var jobsPath: String { "/apis/batch/v1/namespaces/" + settings.namespace + "/jobs" }

    public func launch(_ run: QueuedRun) -> LaunchOutcome {
        if isStopping { return LaunchOutcome(error: Self.stoppingMessage, interrupted: true) }
        going.withLock { $0.identities[run.id] = run.identity }
        defer { going.withLock { g in g.identities[run.id] = nil; g.stopped.remove(run.id) } }
        let spec: KubernetesRunSpec
        do { spec = try makeSpec(run) } catch {
            return finish(run, spec: nil, record: ["outcome": "failed", "reason": .string(error.description)], error: error.description)
        }
        let directory = stateDirectory + "/runs/" + String(run.id)
        _ = TreeRemoval.remove(path: Array(directory.utf8))
        mkdir(directory, 0o700)
        let configMap = KubernetesRunObjects.configMap(spec), job = KubernetesRunObjects.job(spec)
        RunFiles.write(directory + "/configmap.json", Array(configMap.jsonText.utf8))
        RunFiles.write(directory + "/job.json", Array(job.jsonText.utf8))

        do {
            try call("create ConfigMap \(spec.name)", KubernetesRequest(method: "POST", path: namespacePath + "/configmaps",
                                                                         body: Array(configMap.jsonText.utf8)), expect: [201, 200])
        } catch {
            return finish(run, spec: spec, record: ["outcome": "failed", "reason": .string(error.description)], error: error.description)
        }
        do {
            try call("create Job \(spec.name)", KubernetesRequest(method: "POST", path: jobsPath, body: Array(job.jsonText.utf8)),
                     expect: [201, 200])
        } catch {
            deleteConfigMap(spec)
            return finish(run, spec: spec, record: ["outcome": "failed", "reason": .string(error.description)], error: error.description)
        }
        let end = waitForJob(spec)
        var record: [String: AuditValue] = ["job_status": .string(end.status)]
        if case .stopped = end {
            deleteJob(spec)
            deleteConfigMap(spec)
            record["outcome"] = "interrupted"
            let why = isStopping ? "the server stopped" : "the kill switch stopped identity \(run.identity)"
            record["reason"] = .string(why + "; the Job was deleted")
            return finish(run, spec: spec, record: record, error: "interrupted: \(why); Job \(spec.name) deleted", interrupted: true)
        }
        if case .timedOut = end { deleteJob(spec) }
        // The log, even of a failed Job: the run may have got as far as its chain.
        let log = readLog(spec)
        deleteConfigMap(spec)
        if let pod = log.pod { record["pod"] = .string(pod) }
        var problems: [String] = []
        if let why = end.problem { problems.append(why) }
        guard let bytes = log.bytes else {
            problems.append(log.error ?? "no pod log")
            let reason = problems.joined(separator: "; ")
            record["outcome"] = "failed"
            record["reason"] = .string(reason)
            return finish(run, spec: spec, record: record, error: reason)
        }
        let podLog: PodLog
        do { podLog = try PodLog.parse(bytes, nonce: spec.nonce) } catch {
            problems.append(error.description)
            let reason = problems.joined(separator: "; ")
            record["outcome"] = "failed"
            record["reason"] = .string(reason)
            return finish(run, spec: spec, record: record, error: reason)
        }
        RunFiles.write(directory + "/pod-audit.jsonl", podLog.chain)
        RunFiles.write(directory + "/output.log", podLog.output)
        record["chain_sha256"] = .string(Digest.sha256Hex(podLog.chain))
        record["chain_file"] = .string(directory + "/pod-audit.jsonl")
        let chain: PodChain
        do { chain = try PodChain.verify(podLog.chain, run: run) } catch {
            let reason = "the pod's audit chain was refused: \(error.reason)"
            record["outcome"] = "refused"
            record["verified"] = false
            record["reason"] = .string(reason)
            return finish(run, spec: spec, record: record, error: reason)
        }
        record["verified"] = true
        record["pod_run"] = .string(chain.runID)
        record["chain_head"] = .string(chain.headHash)
        record["chain_records"] = .int(Int64(chain.records))
        record["complete"] = .bool(chain.complete)
        if podLog.chain.count <= RemoteRunRecorder.inlineLimit { record["records"] = .array(chain.values) }
        if let code = chain.exitCode { record["exit_code"] = .int(Int64(code)) }
        if let status = podLog.exitStatus, let code = chain.exitCode, status != code {
            problems.append("the pod's script saw exit status \(status), the chain's run.exit says \(code)")
        }
        if !chain.complete { problems.append("the run has no run.exit (cut short)") }
        record["outcome"] = .string(chain.complete ? "finished" : "failed")
        if !problems.isEmpty { record["reason"] = .string(problems.joined(separator: "; ")) }
        return finish(run, spec: spec, record: record, runID: chain.runID, exitCode: chain.complete ? chain.exitCode : nil,
                      error: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }

    /// Records `run.remote` and returns the outcome. A record that cannot be written fails the run.
    private func finish(_ run: QueuedRun, spec: KubernetesRunSpec?, record: [String: AuditValue], runID: String? = nil,
                        exitCode: Int32? = nil, error: String?, interrupted: Bool = false) -> LaunchOutcome {
        var fields = record
        fields["executor"] = "kubernetes"
        fields["queue_id"] = .int(run.id)
        fields["trigger"] = .string(run.trigger)
        fields["identity"] = .string(run.identity)
        fields["trigger_decision"] = .string(run.decision)
        fields["namespace"] = .string(settings.namespace)
        if fields["verified"] == nil { fields["verified"] = false }
        if let spec { fields["job"] = .string(spec.name) }
        var message = error
        do { try recorder.record(run: runID ?? run.decision, fields: fields) } catch let e {
            message = (message.map { $0 + "; " } ?? "") + "run.remote could not be recorded: \(e)"
            return LaunchOutcome(runID: runID, exitCode: nil, error: message, interrupted: interrupted)
        }
        return LaunchOutcome(runID: runID, exitCode: exitCode, error: message, interrupted: interrupted)
    }

    func makeSpec(_ run: QueuedRun) throws(KubernetesLaunchError) -> KubernetesRunSpec {
        let policy = policy()
        guard let trigger = policy.triggers.first(where: { $0.name == run.trigger }) else {
            throw KubernetesLaunchError("trigger \(run.trigger) is no longer in the policy")
        }
        guard trigger.identity == run.identity else {
            throw KubernetesLaunchError("trigger \(run.trigger) now runs identity \(trigger.identity), not \(run.identity) as decided")
        }
        var clone: (url: String, commit: String)?
        switch trigger.workspace {
        case .directory(let path):
            throw KubernetesLaunchError("trigger \(run.trigger) uses the directory \(TerminalText.escape(path)) as its workspace, which a pod does not have; use `workspace clone` or `workspace empty`")
        case .empty:
            break
        case .clone:
            guard let commit = run.commit, let url = run.cloneURL else {
                throw KubernetesLaunchError("trigger \(run.trigger) clones the event's repository, and the event names no usable repository URL and commit")
            }
            guard GitObjectID.isValid(commit) else {
                throw KubernetesLaunchError("commit \(TerminalText.escape(commit)) is not a full hexadecimal object id")
            }
            guard url.hasPrefix("https://"), !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
                throw KubernetesLaunchError("the repository URL \(TerminalText.escape(url)) is not a plain https URL")
            }
            clone = (url, commit)
        }
        guard let event = String(validating: run.eventDocument, as: UTF8.self) else {
            throw KubernetesLaunchError("the event document is not UTF-8")
        }
        let bundle = try PolicyBundle.load(policy.path, identity: run.identity)
        let runLimit = [settings.timeoutSeconds, bundle.wallTimeSeconds.map { Int64(clamping: $0) }].compactMap { $0 }.min()
        var g = SystemRandomNumberGenerator()
        let nonce = String((g.next() as UInt32) | 0x1000_0000, radix: 16)
        return KubernetesRunSpec(queueID: run.id, nonce: nonce, namespace: settings.namespace, image: settings.image,
                                 wardenPath: settings.wardenPath, trigger: run.trigger, identity: run.identity, decision: run.decision,
                                 repository: run.repository, policyFiles: bundle.files, event: event, clone: clone,
                                 command: trigger.run, runTimeoutSeconds: settings.timeoutSeconds,
                                 activeDeadlineSeconds: (runLimit ?? settings.defaultDeadlineSeconds) + settings.setupSeconds,
                                 ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished)
    }

    // MARK: - The API calls

    @discardableResult
    func call(_ what: String, _ request: KubernetesRequest, expect: Set<Int>) throws(KubernetesError) -> KubernetesResponse {
        let response = try api.send(request)
        guard expect.contains(response.status) else {
            throw .status(what: what, status: response.status, message: Self.statusMessage(response.body))
        }
        return response
    }

    /// The `message` of a Kubernetes `Status` answer, escaped for a terminal, at most 300 characters.
    static func statusMessage(_ body: [UInt8]) -> String {
        guard let v = KubeJSON.parse(Array(body.prefix(64 << 10))), let m = v["message"]?.stringValue else { return "" }
        return TerminalText.escape(String(m.prefix(300)))
    }

    enum JobEnd {
        case succeeded
        case failed(String)
        case timedOut(String)
        case stopped
        case unknown(String)

        var status: String {
            switch self {
            case .succeeded: return "succeeded"
            case .failed: return "failed"
            case .timedOut: return "timed-out"
            case .stopped: return "deleted"
            case .unknown: return "unknown"
            }
        }

        var problem: String? {
            switch self {
            case .succeeded, .stopped: return nil
            case .failed(let m), .timedOut(let m), .unknown(let m): return m
            }
        }
    }

    /// Looks at the Job until it ends, the server stops, or it outlives its deadline (plus a
    /// minute). Gives up after `pollAttempts` looks in a row without a usable answer.
    func waitForJob(_ spec: KubernetesRunSpec) -> JobEnd {
        let deadline = ServeClock.milliseconds() + (spec.activeDeadlineSeconds + 60) * 1000
        var failures = 0
        var lastError = ""
        while true {
            if isStopped(spec.queueID) { return .stopped }
            do throws(KubernetesError) {
                let r = try call("read Job \(spec.name)", KubernetesRequest(method: "GET", path: jobsPath + "/" + spec.name), expect: [200])
                guard let job = KubeJSON.parse(r.body) else {
                    throw .invalidResponse("the Job \(spec.name) is not JSON this client reads")
                }
                failures = 0
                if let end = Self.jobEnd(job) { return end }
            } catch {
                if case .status(_, let status, _) = error, status != 429, status < 500 {
                    return .unknown(error.description)
                }
                failures += 1
                lastError = error.description
                if failures >= settings.pollAttempts {
                    return .unknown("gave up after \(failures) looks at the Job without an answer: \(lastError)")
                }
            }
            if ServeClock.milliseconds() > deadline {
                return .timedOut("the Job outlived its deadline of \(spec.activeDeadlineSeconds) s")
            }
            pause(settings.pollMilliseconds)
        }
    }

    /// Sleeps `ms` in short slices, returning early when the server stops.
    private func pause(_ ms: Int64) {
        var left = ms
        while left > 0, !isStopping, going.withLock({ $0.stopped.isEmpty }) {
            let step = min(left, 100)
            usleep(UInt32(step * 1000))
            left -= step
        }
    }

    /// The Job's end from its status, or nil while it runs.
    static func jobEnd(_ job: AuditValue) -> JobEnd? {
        guard let status = job["status"]?.objectValue else { return nil }
        for c in status["conditions"]?.arrayValue ?? [] where c["status"]?.stringValue == "True" {
            let why = [c["reason"]?.stringValue, c["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
            switch c["type"]?.stringValue {
            case "Complete": return .succeeded
            case "Failed":
                return c["reason"]?.stringValue == "DeadlineExceeded" ? .timedOut("the Job's deadline passed: \(TerminalText.escape(why))")
                    : .failed("the Job failed: \(TerminalText.escape(why))")
            default: continue
            }
        }
        if (status["succeeded"]?.intValue ?? 0) > 0 { return .succeeded }
        if (status["failed"]?.intValue ?? 0) > 0 { return .failed("the Job failed (its pod failed)") }
        return nil
    }

    /// The `warden` container's log, read through the API.
    func readLog(_ spec: KubernetesRunSpec) -> (pod: String?, bytes: [UInt8]?, error: String?) {
        let pods: KubernetesResponse
        do {
            pods = try call("list the Job's pods", KubernetesRequest(method: "GET", path: namespacePath + "/pods?labelSelector=job-name%3D" + spec.name),
                            expect: [200])
        } catch { return (nil, nil, error.description) }
        guard let list = KubeJSON.parse(pods.body) else {
            return (nil, nil, "kubernetes: the Job's pod list is not JSON this client reads")
        }
        guard let pod = list["items"]?.arrayValue?.compactMap({ $0["metadata"]?["name"]?.stringValue }).first,
              KubernetesConnection.isDNSSubdomain(pod) else {
            return (nil, nil, "the Job has no pod (it never started one)")
        }
        do {
            let r = try call("read pod \(pod)'s log", KubernetesRequest(method: "GET", path: namespacePath + "/pods/" + pod
                                                                          + "/log?container=\(KubernetesRunObjects.mainContainer)&limitBytes=\(settings.logLimit)"),
                             expect: [200])
            return (pod, r.body, nil)
        } catch { return (pod, nil, error.description) }
    }

    private func deleteConfigMap(_ spec: KubernetesRunSpec) {
        _ = try? api.send(KubernetesRequest(method: "DELETE", path: namespacePath + "/configmaps/" + spec.name))
    }

    private func deleteJob(_ spec: KubernetesRunSpec) {
        _ = try? api.send(KubernetesRequest(method: "DELETE", path: jobsPath + "/" + spec.name + "?propagationPolicy=Background"))
    }
}

extension KubernetesConnection {
    /// A DNS-1123 subdomain (a pod's name), at most 253 characters.
    static func isDNSSubdomain(_ s: String) -> Bool {
        s.utf8.count <= 253 && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }
}

/// Files of a run's directory (best effort: they are for the operator's review; the
/// verdict is in the audit record).
enum RunFiles {
    static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return }
            done += n
        }
    }
}
