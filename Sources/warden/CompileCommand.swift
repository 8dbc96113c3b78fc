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
        abstract: "Compile an identity into its enforcement plan (JSON), seccomp BPF, or annotated BPF assembly.",
        discussion: """
        Examples:
          warden compile policies/default.warden --emit plan
          warden compile policies/default.warden --emit bpf --output default.bpf
          warden compile policies/default.warden --emit asm --arch aarch64
        Output is byte-identical for identical input. Exit status: 0 ok, 1 policy errors, 2 usage or I/O error.
        """
    )

    enum Emit: String, ExpressibleByArgument, CaseIterable {
        case plan, bpf, asm
    }

    @Argument(help: "The policy file.")
    var path: String

    @Option(help: "The identity (may be left out when the policy defines exactly one).")
    var identity: String?

    @Option(help: "What to emit: plan (JSON with provenance), bpf (raw sock_filter array), asm (annotated disassembly).")
    var emit: Emit = .plan

    @Option(help: "Target architecture: x86_64 or aarch64 (default: this machine's).")
    var arch: String?

    @Option(name: .shortAndLong, help: "Write to FILE instead of standard output.")
    var output: String?

    @Flag(help: "Compile denials to return their errno directly instead of notifying the supervisor (as used without an audit trail).")
    var noNotify = false

    func run() throws {
        var target = Architecture.native
        if let arch {
            guard let a = Architecture(rawValue: arch) else {
                throw ValidationError("unknown architecture `\(arch)`; use x86_64 or aarch64")
            }
            target = a
        }
        let policy = try PolicyInput.load(path, failureCode: 1)
        let effective = try PolicyInput.effective(policy, identity: identity, failureCode: 1)
        let compiled: (plan: EnforcementPlan, filter: SeccompFilter)
        do {
            compiled = try effective.enforcementPlan(arch: target, notify: !noNotify)
        } catch {
            printError("\(path): identity \(effective.identity): \(error.description)")
            throw ExitCode(1)
        }
        let bytes: [UInt8]
        switch emit {
        case .plan: bytes = Array(compiled.plan.json().utf8)
        case .bpf: bytes = compiled.filter.program.bytes
        case .asm: bytes = Array(compiled.filter.disassembly().utf8)
        }
        if let output {
            do { try OutputFile.save(bytes, to: output) } catch {
                printError("cannot write \(output): \(error)")
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
