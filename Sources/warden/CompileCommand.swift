import ArgumentParser
import WardenCompiler
import WardenKernel
import WardenPolicy
#if canImport(Glibc)
import Glibc
#endif

/// `warden compile`: a policy identity as an enforcement plan, a BPF filter or its disassembly.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Compile an identity into its enforcement plan (JSON), seccomp BPF, annotated BPF assembly, or an OCI, Kubernetes or systemd export.",
        discussion: """
        Examples:
          warden compile policies/default.warden --emit plan
          warden compile policies/default.warden --emit bpf --output default.bpf
          warden compile policies/default.warden --emit asm --arch aarch64
          warden compile policies/default.warden --emit oci --allow-weaker
          warden compile policies/default.warden --emit oci-bundle --output bundle --workspace ./repo -- /bin/sh -c 'make test'
          warden compile policies/default.warden --emit k8s --output k8s --allow-weaker -- make test
          warden compile policies/default.warden --emit k8s --kind pod --allow-weaker -- make test > pod.yaml
          warden compile policies/default.warden --emit systemd --workspace /srv/agent > warden.conf
        Exports that an engine cannot express exactly are listed on standard error and in the
        output; a weaker export is refused unless --allow-weaker is given.
        Output is byte-identical for identical input. Exit status: 0 ok, 1 policy errors or a
        refused weaker export, 2 usage or I/O error.
        """
    )

    enum Emit: String, ExpressibleByArgument, CaseIterable {
        case plan, bpf, asm, oci
        case ociBundle = "oci-bundle"
        case k8s, systemd
    }

    @Argument(help: "The policy file (`-`: standard input; its includes resolve relative to the current directory).")
    var path: String

    @Option(help: "The identity (may be left out when the policy defines exactly one).")
    var identity: String?

    @Option(help: "What to emit: plan (JSON with provenance), bpf (raw sock_filter array), asm (annotated disassembly), oci (runtime-spec config), oci-bundle (a runc bundle directory), k8s (a Job, Pod or PodTemplate as --kind says, and a NetworkPolicy; the SPO SeccompProfile apart), systemd (a service drop-in).")
    var emit: Emit = .plan

    @Option(help: "Target architecture: x86_64 or aarch64 (default: this machine's).")
    var arch: String?

    @Option(name: .shortAndLong, help: "Write to FILE instead of standard output (a directory for oci-bundle, and for k8s: DIR/kubernetes.yaml, the node's seccomp profile under DIR/seccomp, DIR/seccomp-profile.yaml).")
    var output: String?

    @OptionGroup var exportOptions: ExportOptions

    @Argument(parsing: .postTerminator, help: "For oci-bundle and k8s: the agent's command, after `--`.")
    var command: [String] = []

    @Flag(help: "Compile denials to return their errno directly instead of notifying the supervisor (as used without an audit trail).")
    var noNotify = false

    func validate() throws {
        if emit == .ociBundle && output == nil { throw ValidationError("--emit oci-bundle needs --output DIR") }
        if emit == .ociBundle && command.isEmpty { throw ValidationError("--emit oci-bundle needs the agent's command after `--`") }
        if !command.isEmpty && emit != .ociBundle && emit != .k8s { throw ValidationError("a command after `--` is only used by --emit oci-bundle and k8s") }
        if emit != .k8s && exportOptions.kind != nil { throw ValidationError("--kind is only used by --emit k8s") }
        if emit != .k8s && exportOptions.spoOutput != nil { throw ValidationError("--spo-output is only used by --emit k8s") }
        if emit != .k8s && exportOptions.ciliumOutput != nil { throw ValidationError("--cilium-output is only used by --emit k8s") }
    }

    func run() throws {
        var target = Architecture.native
        if let arch {
            guard let a = Architecture(rawValue: arch) else {
                throw ValidationError("unknown architecture `\(shown(arch))`; use x86_64 or aarch64")
            }
            target = a
        }
        let policy = try PolicyInput.load(path, failureCode: 1)
        let effective = try PolicyInput.effective(policy, identity: identity, failureCode: 1)
        switch emit {
        case .oci, .ociBundle, .k8s, .systemd:
            try ExportRunner(options: exportOptions, arch: target, output: output, command: command, policyPath: path)
                .run(emit.rawValue, effective)
            return
        case .plan, .bpf, .asm: break
        }
        let compiled: (plan: EnforcementPlan, filter: SeccompFilter)
        do {
            compiled = try effective.enforcementPlan(arch: target, notify: !noNotify)
        } catch {
            printError("\(shown(path)): identity \(effective.identity): \(shown(error.description))")
            throw ExitCode(1)
        }
        let bytes: [UInt8]
        switch emit {
        case .plan: bytes = Array(compiled.plan.json().utf8)
        case .bpf: bytes = compiled.filter.program.bytes
        case .asm: bytes = Array(compiled.filter.disassembly().utf8)
        case .oci, .ociBundle, .k8s, .systemd: return
        }
        if let output {
            do { try OutputFile.save(bytes, to: output) } catch {
                printError("cannot write \(shown(output)): \(error)")
                throw ExitCode(2)
            }
        } else {
            OutputFile.writeAll(1, bytes)
        }
    }
}

/// Writing command output to files and descriptors.
enum OutputFile {
    struct WriteError: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { String(cString: strerror(errno)) }
    }

    /// Writes `bytes` to `path` atomically (a temporary file renamed over it).
    static func save(_ bytes: [UInt8], to path: String) throws {
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(errno: errno) }
        let ok = writeAll(fd, bytes)
        let saved = errno
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            let e = ok ? errno : saved
            unlink(temp)
            throw WriteError(errno: e)
        }
    }

    /// Writes everything, retrying short writes and EINTR.
    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return false }
            offset += n
        }
        return true
    }
}
