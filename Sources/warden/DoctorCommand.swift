import WardenKernel
import ArgumentParser
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// `warden doctor`: what this kernel and this user can enforce.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show which enforcement layers this kernel and user support, and which stock policies can run here.",
        discussion: """
        Each identity of each policy in the stock policy directory (the first holding default.warden of: \
        PREFIX/share/warden/policies for a binary in PREFIX/bin, policies/ next to the binary or up to four \
        directories above it, /usr/local/share/warden/policies, /usr/share/warden/policies; or --policies DIR) \
        is judged as `warden run` would launch it here: ready, limited (runs, but some \
        grants have no effect or denials go unrecorded), best-effort (refused unless --best-effort), \
        cannot-run, or invalid. Then, for each stock policy of the workload matrix, which everyday workloads \
        (C, Python, Node, Go, Rust, Java, git, shell) it supports here: their tools are on PATH and the \
        policy allows every access they need (as `warden explain` decides it).
        Exit status: 0 when every core layer (seccomp, Landlock, namespaces) is available, 1 otherwise.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    @Option(help: "Directory of policies to assess (default: the stock policy directory, see above).")
    var policies: String?

    func run() throws {
        if let dir = policies, StockPolicyReport.wardenFiles(in: dir) == nil {
            printError("--policies \(dir): \(String(cString: strerror(errno)))")
            throw ExitCode(2)
        }
        let k = KernelSupport.detect()
        var report = DoctorReport(k, launch: KernelSupport.launchCheck().outcome)
        report.stock = StockPolicyReport.evaluate(directory: policies, support: k)
        if let dir = report.stock?.directory, report.stock?.problem == nil {
            report.workloads = WorkloadReport.evaluate(directory: dir, path: getenv("PATH").map { String(cString: $0) } ?? "",
                                                       home: getenv("HOME").map { String(cString: $0) } ?? "/")
        }
        print(format == .json ? report.json() : report.text())
        if !report.coreLayersAvailable { throw ExitCode(1) }
    }
}

/// The doctor's findings, rendered as text or JSON.
struct DoctorReport {
    let k: KernelSupport
    /// The outcome of a real launch of /bin/true under every layer.
    let launch: RunOutcome
    /// Which stock policies can run here.
    var stock: StockPolicyReport?
    /// Which workloads of the matrix each stock policy supports here.
    var workloads: WorkloadReport?

    init(_ k: KernelSupport, launch: RunOutcome) { self.k = k; self.launch = launch }

    var launchOK: Bool { launch == .exited(0) }
    var launchDetail: String {
        switch launch {
        case .exited(0): return "/bin/true ran under namespaces, mounts, Landlock, no capabilities, no_new_privs and seccomp"
        case .launchFailed(let f): return f.message
        default: return "/bin/true ended with exit status \(launch.exitCode)"
        }
    }

    var seccompFilters: Bool { k.seccompActions.contains("errno") && k.seccompActions.contains("kill_process") }
    var namespacesOK: Bool { k.namespaces.allSatisfy(\.available) }
    var coreLayersAvailable: Bool { seccompFilters && k.landlockABI >= 1 && namespacesOK && launchOK }

    /// `enabled`, `disabled` or `unknown: ERRNO` (only `warden run --observe-filesystem` switches it, for that run).
    var kernelAudit: String {
        switch KernelAuditState.current() {
        case .enabled: return "enabled"
        case .disabled: return "disabled"
        case .unknown(let e): return "unknown: \(errnoName(e))"
        }
    }

    var landlockRights: [String] {
        var r: [String] = []
        if k.landlockABI >= 1 { r.append("filesystem") }
        if k.landlockABI >= 2 { r.append("refer") }
        if k.landlockABI >= 3 { r.append("truncate") }
        if k.landlockABI >= 5 { r.append("ioctl_dev") }
        return r
    }

    func text() -> String {
        func mark(_ ok: Bool) -> String { ok ? "yes" : "NO " }
        var lines: [String] = []
        lines.append("kernel           \(k.kernelRelease)")
        lines.append("user             uid \(k.uid)" + (k.runningAsRoot ? " (root)" : " (unprivileged: a user namespace carries every namespace)"))
        lines.append("\(mark(seccompFilters)) seccomp        actions: \(k.seccompActions.joined(separator: " "))")
        lines.append("\(mark(k.userNotification)) user notify    seccomp user notification (supervisor-decided syscalls)")
        lines.append("\(mark(k.landlockABI >= 1)) landlock       " +
                     (k.landlockABI >= 1 ? "ABI \(k.landlockABI): \(landlockRights.joined(separator: ", "))" : "not available"))
        for n in k.namespaces {
            let pad = String(repeating: " ", count: max(0, 10 - n.name.count))
            lines.append("\(mark(n.available)) namespace \(n.name)" + (n.available ? "" : "\(pad)cannot create: \(errnoName(n.errno))"))
        }
        if let m = k.maxUserNamespaces { lines.append("                 max_user_namespaces = \(m)") }
        let cg = k.cgroup
        lines.append("\(mark(cg.unusableReason == nil)) cgroup v2      " +
                     (cg.unusableReason ?? "limits (memory.max, pids.max) under \(cg.directory ?? "?")"))
        let memory = MemoryLimitMechanism.choose(cgroup: cg, v1Memory: CgroupSupport.v1MemoryDirectory(), root: k.runningAsRoot)
        lines.append("\(mark(memory.isAvailable)) limit memory   " + (memory.isAvailable ? "enforced by the \(memory)"
            : "refused at launch (--best-effort skips it): \(memory)"))
        lines.append("\(mark(launchOK)) sandbox launch \(launchDetail)")
        lines.append("    denials        \(KernelAuditState.current().doctorText)")
        lines.append("    capabilities   " + (k.effectiveCapabilities.isEmpty ? "none held" :
                     "\(k.effectiveCapabilities.count) held: \(k.effectiveCapabilities.joined(separator: " "))"))
        if let stock { lines += stock.textLines() }
        if let workloads { lines += workloads.textLines() }
        lines.append(coreLayersAvailable ? "Warden can enforce its core layers here."
                     : "Some core layers are missing: launches need --best-effort, which records what was skipped.")
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        func str(_ s: String) -> String { JSONText.quote(s) }
        func arr(_ a: [String]) -> String { "[" + a.map(str).joined(separator: ", ") + "]" }
        let ns = k.namespaces.map {
            "{\"name\": \(str($0.name)), \"available\": \($0.available)" + ($0.available ? "" : ", \"error\": \(str(errnoName($0.errno)))") + "}"
        }
        let cg = k.cgroup
        var fields: [String] = [
            "\"kernel\": \(str(k.kernelRelease))",
            "\"uid\": \(k.uid)",
            "\"root\": \(k.runningAsRoot)",
            "\"seccomp\": {\"filters\": \(seccompFilters), \"actions\": \(arr(k.seccompActions)), \"user_notification\": \(k.userNotification)}",
            "\"landlock\": {\"abi\": \(k.landlockABI), \"rights\": \(arr(landlockRights))}",
            "\"namespaces\": [" + ns.joined(separator: ", ") + "]",
            "\"cgroup_v2\": {\"usable\": \(cg.unusableReason == nil), \"directory\": \(cg.directory.map(str) ?? "null"), "
                + "\"controllers\": \(arr(cg.controllers.sorted())), \"reason\": \(cg.unusableReason.map(str) ?? "null")}",
            "\"limit_memory\": " + Self.memoryJSON(MemoryLimitMechanism.choose(cgroup: cg, v1Memory: CgroupSupport.v1MemoryDirectory(), root: k.runningAsRoot), str),
            "\"capabilities\": \(arr(k.effectiveCapabilities))",
            "\"launch_check\": {\"ok\": \(launchOK), \"detail\": \(str(launchDetail))}",
            "\"core_layers_available\": \(coreLayersAvailable)",
            "\"denials_observed\": {\"syscall\": \(k.userNotification), \"network_with_net_rules\": \(k.userNotification), \"filesystem\": \(str(!k.runningAsRoot ? "none" : k.landlockABI >= 7 ? "landlock,mount" : "mount")), "
                + "\"kernel_audit\": \(str(kernelAudit))}",
        ]
        if let stock { fields.append("\"stock_policies\": " + stock.json(str)) }
        if let workloads { fields.append("\"workloads\": " + workloads.json(str)) }
        if let m = k.maxUserNamespaces { fields.insert("\"max_user_namespaces\": \(m)", at: 3) }
        return "{\n  " + fields.joined(separator: ",\n  ") + "\n}"
    }

    /// `{"mechanism": "cgroup-v1"|"cgroup-v2"|"none", "directory"|"reason": ...}`.
    static func memoryJSON(_ m: MemoryLimitMechanism, _ str: (String) -> String) -> String {
        switch m {
        case .cgroupV2(let d): return "{\"mechanism\": \"cgroup-v2\", \"directory\": \(str(d))}"
        case .cgroupV1(let d): return "{\"mechanism\": \"cgroup-v1\", \"directory\": \(str(d))}"
        case .unavailable(let r): return "{\"mechanism\": \"none\", \"reason\": \(str(r))}"
        }
    }
}
