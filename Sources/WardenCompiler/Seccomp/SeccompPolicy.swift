import WardenKernel

/// What a denied syscall gets back when no rule names an errno.
public enum DenyAction: Hashable, Sendable, Codable {
    /// Fail with this errno (1...4095).
    case errno(Int32)
    /// Ask the supervisor through a seccomp user-notification fd.
    case notify
    /// Kill the whole process (SIGSYS).
    case kill
}

/// A comparison on one syscall argument. All comparisons are unsigned.
public enum ComparisonOp: String, Hashable, Sendable, Codable, CaseIterable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    /// `arg & mask == value`.
    case maskedEq = "&=="
}

/// One condition on a syscall argument.
public struct ArgCondition: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Argument index, 0...5.
    public var arg: Int
    public var op: ComparisonOp
    public var value: UInt64
    /// The mask for `.maskedEq`; ignored otherwise.
    public var mask: UInt64
    /// True when the kernel reads only the low 32 bits of this argument: the condition then
    /// looks at the low 32 bits only, whatever the caller put in the upper half.
    public var is32Bit: Bool

    public init(arg: Int, op: ComparisonOp, value: UInt64, mask: UInt64 = 0, is32Bit: Bool) {
        self.arg = arg
        self.op = op
        self.value = value
        self.mask = mask
        self.is32Bit = is32Bit
    }

    public var description: String {
        let a = "arg\(arg)\(is32Bit ? ":32" : "")"
        if op == .maskedEq { return "\(a) & 0x\(String(mask, radix: 16)) == 0x\(String(value, radix: 16))" }
        return "\(a) \(op.rawValue) 0x\(String(value, radix: 16))"
    }
}

/// One allow or deny rule for one syscall.
public struct SyscallRule: Hashable, Sendable, Codable {
    public enum Effect: String, Hashable, Sendable, Codable { case allow, deny }

    /// The syscall name as libseccomp spells it.
    public var syscall: String
    public var effect: Effect
    /// A conjunction; empty means always.
    public var conditions: [ArgCondition]
    /// For deny rules: the errno to return; nil means the policy's default deny action.
    public var errno: Int32?
    /// Provenance (a rule id or `file:line`), carried into annotations and explanations.
    public var source: String

    public init(syscall: String, effect: Effect, conditions: [ArgCondition] = [], errno: Int32? = nil, source: String = "") {
        self.syscall = syscall
        self.effect = effect
        self.conditions = conditions
        self.errno = errno
        self.source = source
    }
}

/// The seccomp half of an enforcement plan, independent of the policy language.
///
/// Semantics (the reference is `SeccompEvaluator`): on a foreign architecture, or an x32
/// syscall number on x86_64, the process is killed. `clone3` always fails with ENOSYS (so libc
/// falls back to `clone`, whose flags the filter can see). Otherwise a call is denied if any
/// matching deny rule says so (the strictest wins: kill, then the lowest errno, then notify);
/// else allowed if any allow rule matches; else `defaultDeny` applies. Rule order never matters.
public struct SeccompPolicy: Hashable, Sendable, Codable {
    public var arch: Architecture
    public var defaultDeny: DenyAction
    public var rules: [SyscallRule]

    public init(arch: Architecture = .native, defaultDeny: DenyAction = .errno(1), rules: [SyscallRule]) {
        self.arch = arch
        self.defaultDeny = defaultDeny
        self.rules = rules
    }
}

/// A filter's verdict for one syscall, as the kernel would act on it.
public enum SeccompAction: Hashable, Sendable, CustomStringConvertible {
    case killProcess, killThread, trap(UInt16), errno(UInt16), userNotif, trace(UInt16), log, allow
    /// An action value the kernel does not know (it treats it as KILL_PROCESS).
    case unknown(UInt32)

    /// Decodes a filter's 32-bit return value.
    public init(raw: UInt32) {
        let data = UInt16(raw & 0xffff)
        switch raw & 0xffff_0000 {
        case 0x8000_0000: self = .killProcess
        case 0x0000_0000: self = .killThread
        case 0x0003_0000: self = .trap(data)
        case 0x0005_0000: self = .errno(data)
        case 0x7fc0_0000: self = .userNotif
        case 0x7ff0_0000: self = .trace(data)
        case 0x7ffc_0000: self = .log
        case 0x7fff_0000: self = .allow
        default: self = .unknown(raw)
        }
    }

    /// The 32-bit value a filter returns for this action.
    public var raw: UInt32 {
        switch self {
        case .killProcess: return 0x8000_0000
        case .killThread: return 0
        case .trap(let d): return 0x0003_0000 | UInt32(d)
        case .errno(let d): return 0x0005_0000 | UInt32(d)
        case .userNotif: return 0x7fc0_0000
        case .trace(let d): return 0x7ff0_0000 | UInt32(d)
        case .log: return 0x7ffc_0000
        case .allow: return 0x7fff_0000
        case .unknown(let r): return r
        }
    }

    public var description: String {
        switch self {
        case .killProcess: return "KILL_PROCESS"
        case .killThread: return "KILL_THREAD"
        case .trap(let d): return "TRAP(\(d))"
        case .errno(let d): return "ERRNO(\(d))"
        case .userNotif: return "USER_NOTIF"
        case .trace(let d): return "TRACE(\(d))"
        case .log: return "LOG"
        case .allow: return "ALLOW"
        case .unknown(let r): return "UNKNOWN(0x\(String(r, radix: 16)))"
        }
    }

    init(_ deny: DenyAction) {
        switch deny {
        case .errno(let e): self = .errno(UInt16(truncatingIfNeeded: e))
        case .notify: self = .userNotif
        case .kill: self = .killProcess
        }
    }
}

/// The input a seccomp filter sees (`struct seccomp_data`).
public struct SeccompData: Hashable, Sendable {
    public var nr: Int32
    public var arch: UInt32
    public var instructionPointer: UInt64
    public var args: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    public init(nr: Int32, arch: UInt32, instructionPointer: UInt64 = 0, args: [UInt64] = []) {
        self.nr = nr
        self.arch = arch
        self.instructionPointer = instructionPointer
        func a(_ i: Int) -> UInt64 { i < args.count ? args[i] : 0 }
        self.args = (a(0), a(1), a(2), a(3), a(4), a(5))
    }

    public func arg(_ i: Int) -> UInt64 {
        switch i {
        case 0: return args.0
        case 1: return args.1
        case 2: return args.2
        case 3: return args.3
        case 4: return args.4
        default: return args.5
        }
    }

    /// The 32-bit word at byte `offset` of the structure, as `ld [offset]` reads it (little-endian).
    public func word(at offset: UInt32) -> UInt32? {
        switch offset {
        case 0: return UInt32(bitPattern: nr)
        case 4: return arch
        case 8: return UInt32(truncatingIfNeeded: instructionPointer)
        case 12: return UInt32(truncatingIfNeeded: instructionPointer >> 32)
        case 16..<64 where offset % 4 == 0:
            let v = arg(Int((offset - 16) / 8))
            return (offset % 8 == 0) ? UInt32(truncatingIfNeeded: v) : UInt32(truncatingIfNeeded: v >> 32)
        default: return nil
        }
    }

    public static func == (l: SeccompData, r: SeccompData) -> Bool {
        l.nr == r.nr && l.arch == r.arch && l.instructionPointer == r.instructionPointer
            && (0..<6).allSatisfy { l.arg($0) == r.arg($0) }
    }

    public func hash(into h: inout Hasher) {
        h.combine(nr); h.combine(arch); h.combine(instructionPointer)
        for i in 0..<6 { h.combine(arg(i)) }
    }
}

extension SyscallRule {
    /// Allow rules (unconditional) for every syscall of `group` (`@default`, with or without
    /// `@`), all carrying `source`; nil when the group is unknown.
    public static func allowing(group: String, source: String) -> [SyscallRule]? {
        SyscallGroups.expand(group)?.map { SyscallRule(syscall: $0, effect: .allow, source: source) }
    }
}
