import ArgumentParser
import WardenCompiler
import WardenKernel
import WardenRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Options of `warden compile` that only the exports (oci, oci-bundle, k8s, systemd) use.
struct ExportOptions: ParsableArguments {
    @Flag(help: "Write an export even where the engine enforces less than the policy (each gap is still printed and recorded in the output).")
    var allowWeaker = false

    @Option(help: "The directory `${workspace}` stands for (default: the current directory; /workspace for k8s).")
    var workspace: String?

    @Option(help: "The directory `${home}` stands for (default: $HOME; /home/agent for k8s).")
    var home: String?

    @Option(help: "oci-bundle: use this root filesystem (an unpacked image) instead of binds of the allowed host paths.")
    var rootfs: String?

    @Option(help: "oci, oci-bundle, k8s, systemd: run as UID[:GID] (default 0:0 for OCI, 65534:65534 for k8s unless capabilities are granted; for systemd DynamicUser= when every writable path is under /var/lib or /var/cache).")
    var user: String?

    @Flag(help: "systemd: hide the standard top-level directories instead of listing this host's, so the output is the same on every host (weaker: a host's other top-level directories stay readable).")
    var portable = false

    @Option(help: "k8s: the container image.")
    var image: String = "agent:latest"

    @Option(help: "k8s: the workload: job (a batch/v1 Job run once, the default), pod (a bare Pod) or podtemplate (a PodTemplate to copy into a controller, with the SeccompProfile in the same file, as before --kind).")
    var kind: KubernetesKind?

    @Option(help: ArgumentHelp("k8s: write the Security Profiles Operator SeccompProfile to FILE (default with --output DIR: DIR/seccomp-profile.yaml; not printed to standard output, so the workload applies where the operator's CRD is absent).", valueName: "file"))
    var spoOutput: String?

    @Option(help: ArgumentHelp("k8s: also write a CiliumNetworkPolicy (cilium.io/v2) to FILE: egress to the policy's domain names with toFQDNs, and DNS to kube-dns for those names only (written only when the identity allows connecting to a domain).", valueName: "file"))
    var ciliumOutput: String?

    @Flag(help: "oci, oci-bundle: no cgroup limits (linux.resources): `limit processes` becomes RLIMIT_NPROC and `limit memory` is left out (write `limit address-space` for RLIMIT_AS).")
    var noCgroupLimits = false
}

/// `--kind` of `warden compile --emit k8s`.
enum KubernetesKind: String, ExpressibleByArgument, CaseIterable {
    case job, pod, podtemplate

    var workload: KubernetesWorkloadKind {
        switch self {
        case .job: return .job
        case .pod: return .pod
        case .podtemplate: return .podtemplate
        }
    }
}

/// Runs one export and writes its files, or refuses a weaker export.
struct ExportRunner {
    var options: ExportOptions
    var arch: Architecture
    var output: String?
    var command: [String]
    var policyPath: String

    func run(_ kind: String, _ policy: EffectivePolicy) throws {
        let user = try parseUser()
        do {
            switch kind {
            case "oci", "oci-bundle":
                let bundle = kind == "oci-bundle"
                let workspace = try directory(options.workspace ?? ".", "--workspace", mustExist: bundle)
                let bindings = PathBindings(workspace: workspace, home: homeDirectory(), tmp: "/tmp")
                var env: [String] = []
                if bundle {
                    let host = HostFacts.environment()
                    for name in policy.envPass { if let v = host[name] { env.append("\(name)=\(v)") } }
                }
                for (name, value) in policy.envSet { env.removeAll { $0.hasPrefix(name + "=") }; env.append("\(name)=\(bindings.expand(envValue: value))") }
                var rootPath = "rootfs"
                if let r = options.rootfs { rootPath = try directory(r, "--rootfs", mustExist: true) }
                let opts = OCIExportOptions(arch: arch, bindings: bindings, rootfs: options.rootfs == nil && bundle ? .hostBinds : .image,
                                            rootPath: rootPath, args: command, env: env,
                                            uid: UInt32(user?.0 ?? 0), gid: UInt32(user?.1 ?? 0),
                                            cgroupLimits: !options.noCgroupLimits, skipMissingPaths: bundle)
                let (config, notes) = try OCIExport.config(policy, options: opts)
                try gate(notes)
                if bundle, let dir = output {
                    try makeDirectory(dir)
                    if options.rootfs == nil { try makeDirectory(dir + "/rootfs") }
                    try save(config.json(), to: dir + "/config.json")
                } else {
                    try emit(config.json())
                }
            case "k8s":
                try exportKubernetes(policy, user: user)
            default:
                let workspace = try directory(options.workspace ?? ".", "--workspace", mustExist: false)
                let bindings = PathBindings(workspace: workspace, home: homeDirectory(), tmp: "/tmp")
                let serviceUser: SystemdServiceUser = user.map { .fixed(uid: UInt32($0.0), gid: UInt32($0.1)) } ?? .automatic
                let (text, notes) = SystemdExport.dropIn(policy, bindings: bindings, arch: arch, listHost: !options.portable, user: serviceUser)
                try gate(notes)
                try emit(text)
            }
        } catch let e as ExportError {
            printError("\(policyPath): identity \(policy.identity): \(e.description)")
            throw ExitCode(1)
        }
    }

    /// `--emit k8s`: the workload file (stdout or DIR/kubernetes.yaml), the node's Localhost
    /// profile under DIR/seccomp, and the SPO object apart (DIR/seccomp-profile.yaml or
    /// --spo-output), so `kubectl apply -f` of the workload needs no operator CRD.
    func exportKubernetes(_ policy: EffectivePolicy, user: (Int64, Int64)?) throws {
        let kind = (options.kind ?? .job).workload
        let bindings = PathBindings(workspace: options.workspace ?? "/workspace", home: options.home ?? "/home/agent", tmp: "/tmp")
        let out = try KubernetesExport.export(policy, options: KubernetesExportOptions(
            arch: arch, bindings: bindings, image: options.image, command: command,
            uid: user?.0 ?? 65534, gid: user?.1 ?? 65534, kind: kind, cilium: options.ciliumOutput != nil))
        try gate(out.notes)
        // Before anything is printed: when the file cannot be written, nothing is.
        if let path = options.ciliumOutput {
            if let cilium = out.ciliumYAML {
                try save(cilium, to: path)
            } else {
                printError("warden: note (k8s): identity \(policy.identity) allows no domain name, so no CiliumNetworkPolicy was written to \(path)", prefix: false)
            }
        }
        if let dir = output {
            try makeDirectory(dir)
            try save(out.yaml, to: dir + "/kubernetes.yaml")
            var path = dir + "/seccomp"
            try makeDirectory(path)
            for part in out.localhostProfile.split(separator: "/").dropLast() { path += "/\(part)"; try makeDirectory(path) }
            try save(out.nodeProfile, to: dir + "/seccomp/" + out.localhostProfile)
            if let spo = options.spoOutput ?? (kind == .podtemplate ? nil : dir + "/seccomp-profile.yaml") {
                try save(out.seccompProfileYAML, to: spo)
            }
        } else {
            // The SPO file first: when it cannot be written, nothing is printed.
            if let spo = options.spoOutput {
                try save(out.seccompProfileYAML, to: spo)
            } else if kind != .podtemplate {
                printError("warden: note (k8s): the Security Profiles Operator SeccompProfile is not printed (it needs the operator's CRD); write it with --spo-output FILE, or --output DIR for DIR/seccomp-profile.yaml", prefix: false)
            }
            try emit(out.yaml)
        }
    }

    /// Prints every note; refuses (exit 1) when one is weaker and --allow-weaker is not given.
    func gate(_ notes: [ExportNote]) throws {
        for n in notes { printError("warden: \(n.kind.rawValue) (\(n.engine)): \(n.location): \(n.message)", prefix: false) }
        let weaker = notes.filter { $0.kind == .weaker }
        if !weaker.isEmpty && !options.allowWeaker {
            printError("refusing to export: \(weaker.count) rule(s) would be enforced less strictly than the policy says; pass --allow-weaker to export anyway (the gaps are recorded in the output)")
            throw ExitCode(1)
        }
    }

    func parseUser() throws -> (Int64, Int64)? {
        guard let u = options.user else { return nil }
        let parts = u.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let uid = UInt32(parts[0]), let gid = parts.count == 2 ? UInt32(parts[1]) : uid else {
            throw ValidationError("--user takes UID or UID:GID (numbers), not `\(u)`")
        }
        return (Int64(uid), Int64(gid))
    }

    func homeDirectory() -> String {
        options.home ?? HostFacts.environment()["HOME"] ?? "/root"
    }

    func directory(_ path: String, _ flag: String, mustExist: Bool) throws -> String {
        if let real = HostFacts.realDirectory(path) { return real }
        if mustExist || !path.hasPrefix("/") {
            printError("\(flag) \(path): not an existing directory")
            throw ExitCode(2)
        }
        return path
    }

    func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            printError("cannot create \(path): \(String(cString: strerror(errno)))")
            throw ExitCode(2)
        }
    }

    func save(_ text: String, to path: String) throws {
        do { try OutputFile.save(Array(text.utf8), to: path) } catch {
            printError("cannot write \(path): \(error)")
            throw ExitCode(2)
        }
    }

    func emit(_ text: String) throws {
        if let output { try save(text, to: output) } else { OutputFile.writeAll(1, Array(text.utf8)) }
    }
}
