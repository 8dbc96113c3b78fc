import WardenKernel

/// A short hand-written check that `SeccompCompiler` places before libseccomp's program, so
/// that `ioctl`'s request guard (the built-in `deny syscall ioctl(request == TIOCSTI)` and
/// `TIOCLINUX`) costs a handful of instructions.
///
/// Why: libseccomp 2.5.4 compares 64-bit values only. A deny on the low 32 bits of the
/// request is a masked compare, but the allow region beside it ("the low 32 bits are not
/// TIOCSTI") becomes one masked compare per bit: about 100 instructions on every allowed
/// `ioctl`, the most frequent argument-checked call of a build.
///
/// The prefix, for the policy's own architecture only (x86_64 and aarch64 are both
/// little-endian: an argument's low word is at `16 + 8 * index`):
///
///     ld  [0]                      ; nr
///     jeq #NR, next, LIBSECCOMP
///     ld  [4]                      ; arch
///     jeq #ARCH, next, LIBSECCOMP
///     ld  [16 + 8 * arg]           ; the argument's low 32 bits, loaded once
///     jeq #c1, RET(c1), next       ; one compare per moved constant
///     jeq #cn, RET(cn), REST
///     ret A ...                    ; one return per distinct action of the moved constants
///     ret R                        ; REST, only when the syscall's other rules give one
///                                  ; answer whatever the arguments (else REST = LIBSECCOMP)
///   LIBSECCOMP:                    ; libseccomp's program, unchanged
///
/// Anything else falls through to libseccomp's program, which decides it as before: another
/// syscall, another architecture (i386 through `int 0x80`: killed there), an x32 number
/// (`nr | 0x40000000` never equals NR: killed there). Jumps are forward and within the
/// prefix (at most `maxConstants` compares), so the 8-bit offsets always fit.
///
/// Which rules move: deny rules on the syscall with exactly one condition, `==` on a 32-bit
/// argument, all on one argument (the one with the most such constants). A constant moves
/// only when its action (the strictest of its rules) is at least as strict as every other
/// deny rule of the syscall that could match together with it — every deny rule except the
/// moved group's rules for other constants, which cannot (the argument has one value). Then
/// a call with that value gets exactly that action, as the reference evaluator says (deny
/// wins; the strictest deny wins), and for any other value the moved rules do not match, so
/// the remaining rules, compiled by libseccomp, decide as before. Everything else stays in
/// libseccomp's program: a policy that itself says something about ioctl keeps its meaning.
/// `SeccompVerifier` checks the spliced program against the reference evaluator.
struct SeccompPrefilter: Sendable {
    /// The syscall whose request guard is checked first.
    static let syscall = "ioctl"
    /// The most constants the prefix compares (each costs one instruction on the allowed path).
    static let maxConstants = 8

    struct Case: Sendable {
        var value: UInt32
        var action: SeccompAction
        var rules: [SyscallRule]
    }

    let arch: Architecture
    let nr: Int32
    /// The argument index compared.
    let arg: Int
    /// The moved constants, in ascending order.
    let cases: [Case]
    /// What the syscall gets when no moved constant matches, if the remaining rules decide
    /// it whatever the arguments; nil: libseccomp's program decides.
    let rest: SeccompAction?
    /// The policy's rules that libseccomp still compiles (all but the moved ones).
    let remaining: [SyscallRule]

    /// The prefix for `policy`, or nil when no rule can move.
    static func plan(_ policy: SeccompPolicy) -> SeccompPrefilter? {
        guard let nr = SyscallTable.number(of: syscall, arch: policy.arch) else { return nil }
        func action(_ r: SyscallRule) -> DenyAction { r.errno.map { DenyAction.errno($0) } ?? policy.defaultDeny }
        func single32BitEquality(_ r: SyscallRule) -> ArgCondition? {
            guard r.syscall == syscall, r.effect == .deny, r.conditions.count == 1, let c = r.conditions.first,
                  c.op == .eq, c.is32Bit, SeccompValidation.normalized32(c.value) != nil else { return nil }
            return c
        }
        let candidates = policy.rules.filter { single32BitEquality($0) != nil }
        let byArg = Dictionary(grouping: candidates) { $0.conditions[0].arg }
        guard let arg = byArg.keys.max(by: { l, r in
            let lc = Set(byArg[l]!.map(\.conditions[0].value)).count, rc = Set(byArg[r]!.map(\.conditions[0].value)).count
            return lc != rc ? lc < rc : l > r
        }) else { return nil }
        let group = byArg[arg] ?? []
        let byValue = Dictionary(grouping: group) { UInt32(SeccompValidation.normalized32($0.conditions[0].value) ?? 0) }
        // Every deny rule of the syscall that is not in the group may match together with
        // any constant of the group.
        let others = policy.rules.filter { $0.syscall == syscall && $0.effect == .deny && !(single32BitEquality($0)?.arg == arg) }
        let strictestOther = others.map(action).min(by: SeccompValidation.stricter)
        var cases: [Case] = []
        for value in byValue.keys.sorted() {
            let rules = byValue[value] ?? []
            guard let strictest = rules.map(action).min(by: SeccompValidation.stricter) else { continue }
            if let strictestOther, SeccompValidation.stricter(strictestOther, strictest) { continue }
            cases.append(Case(value: value, action: SeccompAction(strictest), rules: rules))
        }
        guard !cases.isEmpty, cases.count <= maxConstants else { return nil }
        let moved = Set(cases.map(\.value))
        let remaining = policy.rules.filter { r in
            guard let c = single32BitEquality(r), c.arg == arg else { return true }
            return !moved.contains(UInt32(SeccompValidation.normalized32(c.value) ?? 0))
        }
        return SeccompPrefilter(arch: policy.arch, nr: nr, arg: arg, cases: cases,
                                rest: constantAction(remaining, defaultDeny: policy.defaultDeny), remaining: remaining)
    }

    /// The action for the syscall under `rules` when none of its rules has a condition (the
    /// reference evaluator's answer then does not depend on the arguments); nil otherwise.
    static func constantAction(_ rules: [SyscallRule], defaultDeny: DenyAction) -> SeccompAction? {
        let mine = rules.filter { $0.syscall == syscall }
        guard mine.allSatisfy(\.conditions.isEmpty) else { return nil }
        let denies = mine.filter { $0.effect == .deny }.map { $0.errno.map { DenyAction.errno($0) } ?? defaultDeny }
        if let strictest = denies.min(by: SeccompValidation.stricter) { return SeccompAction(strictest) }
        return mine.isEmpty ? SeccompAction(defaultDeny) : .allow
    }

    /// The prefix's instructions; its last jumps land just past it, where libseccomp's
    /// program is appended.
    var instructions: [SockFilter] {
        let ld = BPFOp.LD | BPFOp.W | BPFOp.ABS, jeq = BPFOp.JMP | BPFOp.JEQ | BPFOp.K, ret = BPFOp.RET | BPFOp.K
        var actions: [SeccompAction] = []
        for c in cases where !actions.contains(c.action) { actions.append(c.action) }
        let compares = 5, returns = compares + cases.count
        let restAt = returns + actions.count
        let length = restAt + (rest == nil ? 0 : 1)
        // Offsets from the instruction after `pc` to `target` (both inside the prefix or at its end).
        func off(_ pc: Int, _ target: Int) -> UInt8 { UInt8(target - pc - 1) }
        var out: [SockFilter] = [
            SockFilter(code: ld, k: 0),
            SockFilter(code: jeq, jt: 0, jf: off(1, length), k: UInt32(bitPattern: nr)),
            SockFilter(code: ld, k: 4),
            SockFilter(code: jeq, jt: 0, jf: off(3, length), k: arch.auditArch),
            SockFilter(code: ld, k: 16 + 8 * UInt32(arg)),
        ]
        for (i, c) in cases.enumerated() {
            let pc = compares + i
            let last = i == cases.count - 1
            out.append(SockFilter(code: jeq, jt: off(pc, returns + actions.firstIndex(of: c.action)!),
                                  jf: last ? off(pc, restAt) : 0, k: c.value))
        }
        for a in actions { out.append(SockFilter(code: ret, k: a.raw)) }
        if let rest { out.append(SockFilter(code: ret, k: rest.raw)) }
        return out
    }

    /// The moved rules as compiled rules (for annotations and the plan's provenance).
    var compiledRules: [CompiledSeccompRule] {
        cases.map { c in
            CompiledSeccompRule(syscall: Self.syscall, number: nr, action: c.action,
                                comparisons: ["arg\(arg) & 0xffffffff == 0x\(String(c.value, radix: 16)) (prefix)"],
                                sources: c.rules.map(\.source))
        }
    }
}
