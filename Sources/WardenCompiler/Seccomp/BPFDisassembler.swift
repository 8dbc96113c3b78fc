import WardenKernel

/// Readable text for a seccomp BPF program:
/// `L0003: ld [4]  ; arch`, `jeq #0xc000003e, L0004, L0010`, `ret ERRNO(1)  ; <annotation>`.
public enum BPFDisassembler {
    /// One line per instruction. `annotations` maps instruction indexes (typically returns)
    /// to a note appended as a comment. With `arch`, comparisons of the syscall number name
    /// the syscall.
    public static func disassemble(_ program: BPFProgram, arch: Architecture? = nil, annotations: [Int: String] = [:]) -> String {
        let insns = program.instructions
        let loads = accumulatorSources(insns)
        let width = String(max(insns.count - 1, 0)).count
        func label(_ i: Int) -> String { "L" + String(repeating: "0", count: max(0, width - String(i).count)) + String(i) }
        var lines: [String] = []
        for (pc, f) in insns.enumerated() {
            var text = instruction(f, pc: pc, label: label)
            var notes: [String] = []
            if BPFOp.cls(f.code) == BPFOp.LD, BPFOp.mode(f.code) == BPFOp.ABS { notes.append(fieldName(f.k)) }
            if BPFOp.cls(f.code) == BPFOp.JMP, BPFOp.aluOp(f.code) != BPFOp.JA, BPFOp.src(f.code) == BPFOp.K, let src = loads[pc] {
                if src == 0, BPFOp.aluOp(f.code) == BPFOp.JEQ, let arch, let n = SyscallTable.name(of: Int32(bitPattern: f.k), arch: arch) {
                    notes.append(n)
                } else if src == 4, f.k == Architecture.x86_64.auditArch || f.k == Architecture.aarch64.auditArch {
                    notes.append(f.k == Architecture.x86_64.auditArch ? "x86_64" : "aarch64")
                }
            }
            if let a = annotations[pc] { notes.append(a) }
            if !notes.isEmpty { text += "  ; " + notes.joined(separator: "; ") }
            lines.append("\(label(pc)): \(text)")
        }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }

    static func instruction(_ f: SockFilter, pc: Int, label: (Int) -> String) -> String {
        let c = f.code
        let k = "#0x" + String(f.k, radix: 16)
        func alu(_ op: UInt16) -> String {
            switch op {
            case BPFOp.ADD: return "add"
            case BPFOp.SUB: return "sub"
            case BPFOp.MUL: return "mul"
            case BPFOp.DIV: return "div"
            case BPFOp.OR: return "or"
            case BPFOp.AND: return "and"
            case BPFOp.LSH: return "lsh"
            case BPFOp.RSH: return "rsh"
            case BPFOp.NEG: return "neg"
            case BPFOp.MOD: return "mod"
            case BPFOp.XOR: return "xor"
            default: return "alu?"
            }
        }
        switch BPFOp.cls(c) {
        case BPFOp.LD:
            switch BPFOp.mode(c) {
            case BPFOp.ABS: return "ld [\(f.k)]"
            case BPFOp.IMM: return "ld \(k)"
            case BPFOp.MEM: return "ld M[\(f.k)]"
            case BPFOp.LEN: return "ld #len"
            default: return ".word 0x\(String(c, radix: 16)), \(k)"
            }
        case BPFOp.LDX:
            switch BPFOp.mode(c) {
            case BPFOp.IMM: return "ldx \(k)"
            case BPFOp.MEM: return "ldx M[\(f.k)]"
            case BPFOp.LEN: return "ldx #len"
            default: return ".word 0x\(String(c, radix: 16)), \(k)"
            }
        case BPFOp.ST: return "st M[\(f.k)]"
        case BPFOp.STX: return "stx M[\(f.k)]"
        case BPFOp.ALU:
            let op = BPFOp.aluOp(c)
            if op == BPFOp.NEG { return "neg" }
            return "\(alu(op)) " + (BPFOp.src(c) == BPFOp.X ? "x" : k)
        case BPFOp.JMP:
            let op = BPFOp.aluOp(c)
            if op == BPFOp.JA { return "ja \(label(pc + 1 + Int(f.k)))" }
            let name: String
            switch op {
            case BPFOp.JEQ: name = "jeq"
            case BPFOp.JGT: name = "jgt"
            case BPFOp.JGE: name = "jge"
            case BPFOp.JSET: name = "jset"
            default: name = "j?"
            }
            let operand = BPFOp.src(c) == BPFOp.X ? "x" : k
            return "\(name) \(operand), \(label(pc + 1 + Int(f.jt))), \(label(pc + 1 + Int(f.jf)))"
        case BPFOp.RET:
            return BPFOp.rval(c) == BPFOp.A ? "ret a" : "ret \(SeccompAction(raw: f.k))"
        default:
            return BPFOp.miscOp(c) == BPFOp.TXA ? "txa" : "tax"
        }
    }

    /// The seccomp_data field at byte `offset`.
    static func fieldName(_ offset: UInt32) -> String {
        switch offset {
        case 0: return "nr"
        case 4: return "arch"
        case 8: return "instruction_pointer low"
        case 12: return "instruction_pointer high"
        case 16..<64: return "args[\((offset - 16) / 8)] \(offset % 8 == 0 ? "low" : "high")"
        default: return "out of range"
        }
    }

    /// For each instruction, the seccomp_data offset the accumulator was loaded from, when
    /// every path agrees and it was not modified since.
    static func accumulatorSources(_ insns: [SockFilter]) -> [Int: UInt32] {
        enum Src: Equatable { case unset, offset(UInt32), unknown }
        var at = [Src](repeating: .unset, count: insns.count + 1)
        func merge(_ i: Int, _ s: Src) {
            guard i < at.count else { return }
            switch at[i] {
            case .unset: at[i] = s
            case let cur where cur == s: break
            default: at[i] = .unknown
            }
        }
        if !insns.isEmpty { at[0] = .unknown }
        var out: [Int: UInt32] = [:]
        for (pc, f) in insns.enumerated() {
            let s = at[pc]
            if case .offset(let o) = s { out[pc] = o }
            let c = f.code
            switch BPFOp.cls(c) {
            case BPFOp.LD:
                merge(pc + 1, BPFOp.mode(c) == BPFOp.ABS ? .offset(f.k) : .unknown)
            case BPFOp.ALU: merge(pc + 1, .unknown)
            case BPFOp.MISC: merge(pc + 1, BPFOp.miscOp(c) == BPFOp.TXA ? .unknown : s)
            case BPFOp.JMP:
                if BPFOp.aluOp(c) == BPFOp.JA { merge(pc + 1 + Int(f.k), s) } else {
                    merge(pc + 1 + Int(f.jt), s)
                    merge(pc + 1 + Int(f.jf), s)
                }
            case BPFOp.RET: break
            default: merge(pc + 1, s)
            }
        }
        return out
    }
}

/// Which syscalls can reach each return instruction (arguments treated as unknown).
public enum BPFReachability {
    /// Maps return-instruction indexes to the names of the syscalls (of `arch`'s table) that
    /// can reach them for some argument values. The program should be valid (see `BPFInterpreter`).
    public static func syscallsReaching(_ program: BPFProgram, arch: Architecture) -> [Int: Set<String>] {
        var out: [Int: Set<String>] = [:]
        for pc in program.instructions.indices where BPFOp.cls(program.instructions[pc].code) == BPFOp.RET { out[pc] = [] }
        for (name, nr) in SyscallTable.all(arch: arch) {
            for pc in returns(program.instructions, nr: UInt32(bitPattern: nr), arch: arch.auditArch) {
                out[pc, default: []].insert(name)
            }
        }
        return out
    }

    private struct State: Hashable {
        var pc: Int
        var a: UInt32?
        var x: UInt32?
        var mem: [UInt32?]
    }

    /// Every return reachable for syscall `nr` with unknown arguments.
    static func returns(_ insns: [SockFilter], nr: UInt32, arch: UInt32) -> Set<Int> {
        var seen: Set<State> = []
        var stack = [State(pc: 0, a: nil, x: nil, mem: Array(repeating: nil, count: 16))]
        var found: Set<Int> = []
        while var s = stack.popLast() {
            guard s.pc < insns.count, seen.insert(s).inserted, seen.count < 100_000 else { continue }
            let f = insns[s.pc]
            let c = f.code
            switch BPFOp.cls(c) {
            case BPFOp.RET:
                found.insert(s.pc)
                continue
            case BPFOp.LD:
                switch BPFOp.mode(c) {
                case BPFOp.ABS: s.a = f.k == 0 ? nr : (f.k == 4 ? arch : nil)
                case BPFOp.IMM: s.a = f.k
                case BPFOp.LEN: s.a = BPFOp.seccompDataSize
                default: s.a = Int(f.k) < 16 ? s.mem[Int(f.k)] : nil
                }
            case BPFOp.LDX:
                switch BPFOp.mode(c) {
                case BPFOp.IMM: s.x = f.k
                case BPFOp.LEN: s.x = BPFOp.seccompDataSize
                default: s.x = Int(f.k) < 16 ? s.mem[Int(f.k)] : nil
                }
            case BPFOp.ST: if Int(f.k) < 16 { s.mem[Int(f.k)] = s.a }
            case BPFOp.STX: if Int(f.k) < 16 { s.mem[Int(f.k)] = s.x }
            case BPFOp.ALU:
                let operand = BPFOp.src(c) == BPFOp.X ? s.x : f.k
                if let a = s.a, let o = operand {
                    let r = BPFInterpreter.aluStep(BPFOp.aluOp(c), a, o)
                    s.a = r
                } else {
                    s.a = BPFOp.aluOp(c) == BPFOp.AND && operand == 0 ? 0 : nil
                }
            case BPFOp.JMP:
                let op = BPFOp.aluOp(c)
                if op == BPFOp.JA { s.pc += 1 + Int(f.k); stack.append(s); continue }
                let operand = BPFOp.src(c) == BPFOp.X ? s.x : f.k
                var t = s, e = s
                t.pc += 1 + Int(f.jt)
                e.pc += 1 + Int(f.jf)
                if let a = s.a, let o = operand {
                    let taken: Bool
                    switch op {
                    case BPFOp.JEQ: taken = a == o
                    case BPFOp.JGT: taken = a > o
                    case BPFOp.JGE: taken = a >= o
                    default: taken = a & o != 0
                    }
                    stack.append(taken ? t : e)
                } else {
                    stack.append(t)
                    stack.append(e)
                }
                continue
            default:
                if BPFOp.miscOp(c) == BPFOp.TXA { s.a = s.x } else { s.x = s.a }
            }
            s.pc += 1
            stack.append(s)
        }
        return found
    }
}

extension BPFInterpreter {
    /// One ALU operation; nil for division or modulo by zero.
    static func aluStep(_ op: UInt16, _ a: UInt32, _ o: UInt32) -> UInt32? {
        switch op {
        case BPFOp.ADD: return a &+ o
        case BPFOp.SUB: return a &- o
        case BPFOp.MUL: return a &* o
        case BPFOp.DIV: return o == 0 ? nil : a / o
        case BPFOp.MOD: return o == 0 ? nil : a % o
        case BPFOp.OR: return a | o
        case BPFOp.AND: return a & o
        case BPFOp.XOR: return a ^ o
        case BPFOp.LSH: return o >= 32 ? 0 : a << o
        case BPFOp.RSH: return o >= 32 ? 0 : a >> o
        default: return 0 &- a
        }
    }
}
