/// Why a BPF program is not one the kernel would accept as a seccomp filter.
public enum BPFProgramError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(Int)
    case unsupportedInstruction(pc: Int, code: UInt16)
    case jumpOutOfRange(pc: Int)
    case loadOutOfRange(pc: Int, offset: UInt32)
    case scratchOutOfRange(pc: Int, index: UInt32)
    case uninitializedScratch(pc: Int, index: UInt32)
    case divisionByZero(pc: Int)
    case shiftTooLarge(pc: Int)
    case noFinalReturn

    public var description: String {
        switch self {
        case .empty: return "the program is empty"
        case .tooLong(let n): return "the program has \(n) instructions; the kernel accepts at most 4096"
        case .unsupportedInstruction(let pc, let c): return "instruction \(pc): opcode 0x\(String(c, radix: 16)) is not allowed in a seccomp filter"
        case .jumpOutOfRange(let pc): return "instruction \(pc): jump target is past the end of the program"
        case .loadOutOfRange(let pc, let o): return "instruction \(pc): load at offset \(o) is outside seccomp_data or unaligned"
        case .scratchOutOfRange(let pc, let i): return "instruction \(pc): scratch memory index \(i) is out of range 0...15"
        case .uninitializedScratch(let pc, let i): return "instruction \(pc): reads scratch memory M[\(i)] that may not be written yet"
        case .divisionByZero(let pc): return "instruction \(pc): division or modulo by constant zero"
        case .shiftTooLarge(let pc): return "instruction \(pc): shift by 32 or more"
        case .noFinalReturn: return "the last instruction is not a return"
        }
    }
}

/// The result of running a filter on one input.
public struct BPFRun: Hashable, Sendable {
    public var action: SeccompAction
    /// The raw 32-bit return value.
    public var returnValue: UInt32
    /// Instructions executed, including the final return.
    public var steps: Int
    /// The index of the return instruction reached.
    public var returnPC: Int
}

/// Runs classic BPF seccomp filters in Swift, after the checks the kernel makes on load.
public struct BPFInterpreter: Sendable {
    public let program: BPFProgram

    /// Validates `program` as the kernel's `bpf_check_classic` and `seccomp_check_filter` would.
    public init(_ program: BPFProgram) throws(BPFProgramError) {
        try Self.validate(program.instructions)
        self.program = program
    }

    /// Runs the filter on `data`.
    public func run(_ data: SeccompData) -> BPFRun {
        let insns = program.instructions
        var a: UInt32 = 0, x: UInt32 = 0
        var mem = [UInt32](repeating: 0, count: Int(BPFOp.memWords))
        var pc = 0, steps = 0
        while pc < insns.count {
            let f = insns[pc]
            steps += 1
            let c = f.code
            switch BPFOp.cls(c) {
            case BPFOp.LD:
                switch BPFOp.mode(c) {
                case BPFOp.ABS: a = data.word(at: f.k) ?? 0
                case BPFOp.LEN: a = BPFOp.seccompDataSize
                case BPFOp.IMM: a = f.k
                default: a = mem[Int(f.k)]
                }
            case BPFOp.LDX:
                switch BPFOp.mode(c) {
                case BPFOp.LEN: x = BPFOp.seccompDataSize
                case BPFOp.IMM: x = f.k
                default: x = mem[Int(f.k)]
                }
            case BPFOp.ST: mem[Int(f.k)] = a
            case BPFOp.STX: mem[Int(f.k)] = x
            case BPFOp.ALU:
                let operand = BPFOp.src(c) == BPFOp.X ? x : f.k
                switch BPFOp.aluOp(c) {
                case BPFOp.ADD: a = a &+ operand
                case BPFOp.SUB: a = a &- operand
                case BPFOp.MUL: a = a &* operand
                case BPFOp.DIV:
                    if operand == 0 { return BPFRun(action: SeccompAction(raw: 0), returnValue: 0, steps: steps, returnPC: pc) }
                    a = a / operand
                case BPFOp.MOD:
                    if operand == 0 { return BPFRun(action: SeccompAction(raw: 0), returnValue: 0, steps: steps, returnPC: pc) }
                    a = a % operand
                case BPFOp.OR: a = a | operand
                case BPFOp.AND: a = a & operand
                case BPFOp.XOR: a = a ^ operand
                case BPFOp.LSH: a = operand >= 32 ? 0 : a << operand
                case BPFOp.RSH: a = operand >= 32 ? 0 : a >> operand
                default: a = 0 &- a  // NEG
                }
            case BPFOp.JMP:
                let operand = BPFOp.src(c) == BPFOp.X ? x : f.k
                let op = BPFOp.aluOp(c)
                if op == BPFOp.JA { pc += 1 + Int(f.k); continue }
                let taken: Bool
                switch op {
                case BPFOp.JEQ: taken = a == operand
                case BPFOp.JGT: taken = a > operand
                case BPFOp.JGE: taken = a >= operand
                default: taken = a & operand != 0
                }
                pc += 1 + Int(taken ? f.jt : f.jf)
                continue
            case BPFOp.RET:
                let v = BPFOp.rval(c) == BPFOp.A ? a : f.k
                return BPFRun(action: SeccompAction(raw: v), returnValue: v, steps: steps, returnPC: pc)
            default:
                if BPFOp.miscOp(c) == BPFOp.TXA { a = x } else { x = a }
            }
            pc += 1
        }
        // Unreachable for a validated program (it ends with a return and jumps stay inside).
        return BPFRun(action: .killProcess, returnValue: SeccompAction.killProcess.raw, steps: steps, returnPC: pc)
    }

    /// The kernel's load-time checks for a seccomp filter.
    static func validate(_ insns: [SockFilter]) throws(BPFProgramError) {
        guard !insns.isEmpty else { throw .empty }
        guard insns.count <= BPFOp.maxInstructions else { throw .tooLong(insns.count) }
        let n = insns.count
        for (pc, f) in insns.enumerated() {
            let c = f.code
            func target(_ off: Int) throws(BPFProgramError) {
                if pc + 1 + off >= n { throw .jumpOutOfRange(pc: pc) }
            }
            switch BPFOp.cls(c) {
            case BPFOp.LD:
                guard BPFOp.size(c) == BPFOp.W || BPFOp.mode(c) == BPFOp.IMM || BPFOp.mode(c) == BPFOp.MEM || BPFOp.mode(c) == BPFOp.LEN else {
                    throw .unsupportedInstruction(pc: pc, code: c)
                }
                switch c {
                case BPFOp.LD | BPFOp.W | BPFOp.ABS:
                    if f.k >= BPFOp.seccompDataSize || f.k & 3 != 0 { throw .loadOutOfRange(pc: pc, offset: f.k) }
                case BPFOp.LD | BPFOp.W | BPFOp.LEN, BPFOp.LD | BPFOp.IMM: break
                case BPFOp.LD | BPFOp.MEM: if f.k >= BPFOp.memWords { throw .scratchOutOfRange(pc: pc, index: f.k) }
                default: throw .unsupportedInstruction(pc: pc, code: c)
                }
            case BPFOp.LDX:
                switch c {
                case BPFOp.LDX | BPFOp.W | BPFOp.LEN, BPFOp.LDX | BPFOp.IMM: break
                case BPFOp.LDX | BPFOp.MEM: if f.k >= BPFOp.memWords { throw .scratchOutOfRange(pc: pc, index: f.k) }
                default: throw .unsupportedInstruction(pc: pc, code: c)
                }
            case BPFOp.ST, BPFOp.STX:
                guard c == BPFOp.ST || c == BPFOp.STX else { throw .unsupportedInstruction(pc: pc, code: c) }
                if f.k >= BPFOp.memWords { throw .scratchOutOfRange(pc: pc, index: f.k) }
            case BPFOp.ALU:
                let op = BPFOp.aluOp(c)
                guard c & 0x07 == BPFOp.ALU, op <= BPFOp.XOR, c == BPFOp.ALU | op | BPFOp.src(c) else {
                    throw .unsupportedInstruction(pc: pc, code: c)
                }
                if op == BPFOp.NEG, BPFOp.src(c) != BPFOp.K { throw .unsupportedInstruction(pc: pc, code: c) }
                if BPFOp.src(c) == BPFOp.K {
                    if (op == BPFOp.DIV || op == BPFOp.MOD), f.k == 0 { throw .divisionByZero(pc: pc) }
                    if (op == BPFOp.LSH || op == BPFOp.RSH), f.k >= 32 { throw .shiftTooLarge(pc: pc) }
                }
            case BPFOp.JMP:
                let op = BPFOp.aluOp(c)
                guard op <= BPFOp.JSET, c == BPFOp.JMP | op | BPFOp.src(c) else { throw .unsupportedInstruction(pc: pc, code: c) }
                if op == BPFOp.JA {
                    guard BPFOp.src(c) == BPFOp.K else { throw .unsupportedInstruction(pc: pc, code: c) }
                    if f.k >= UInt32(n) { throw .jumpOutOfRange(pc: pc) }
                    try target(Int(f.k))
                } else {
                    try target(Int(f.jt))
                    try target(Int(f.jf))
                }
            case BPFOp.RET:
                guard c == BPFOp.RET | BPFOp.K || c == BPFOp.RET | BPFOp.A else { throw .unsupportedInstruction(pc: pc, code: c) }
            default:
                guard c == BPFOp.MISC | BPFOp.TAX || c == BPFOp.MISC | BPFOp.TXA else { throw .unsupportedInstruction(pc: pc, code: c) }
            }
        }
        guard BPFOp.cls(insns[n - 1].code) == BPFOp.RET else { throw .noFinalReturn }
        // Scratch memory must be written on every path before it is read (check_load_and_stores).
        var masks = [UInt16](repeating: 0xffff, count: n)
        var valid: UInt16 = 0
        for pc in 0..<n {
            valid &= masks[pc]
            let f = insns[pc]
            switch f.code {
            case BPFOp.ST, BPFOp.STX: valid |= 1 << UInt16(f.k)
            case BPFOp.LD | BPFOp.MEM, BPFOp.LDX | BPFOp.MEM:
                if valid & (1 << UInt16(f.k)) == 0 { throw .uninitializedScratch(pc: pc, index: f.k) }
            default:
                if BPFOp.cls(f.code) == BPFOp.JMP {
                    if BPFOp.aluOp(f.code) == BPFOp.JA {
                        masks[pc + 1 + Int(f.k)] &= valid
                    } else {
                        masks[pc + 1 + Int(f.jt)] &= valid
                        masks[pc + 1 + Int(f.jf)] &= valid
                    }
                    valid = 0xffff
                }
            }
        }
    }
}
