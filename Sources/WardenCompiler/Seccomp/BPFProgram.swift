/// One classic BPF instruction (`struct sock_filter`).
public struct SockFilter: Hashable, Sendable, Codable {
    public var code: UInt16
    public var jt: UInt8
    public var jf: UInt8
    public var k: UInt32

    public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32 = 0) {
        self.code = code
        self.jt = jt
        self.jf = jf
        self.k = k
    }
}

/// A classic BPF program, as the kernel's `SECCOMP_SET_MODE_FILTER` takes it.
public struct BPFProgram: Hashable, Sendable {
    public var instructions: [SockFilter]

    public init(instructions: [SockFilter]) { self.instructions = instructions }

    /// Parses the raw form (8 bytes per instruction, host byte order = little-endian here).
    public init?(bytes: [UInt8]) {
        guard bytes.count % 8 == 0 else { return nil }
        var out: [SockFilter] = []
        out.reserveCapacity(bytes.count / 8)
        var i = 0
        while i < bytes.count {
            let code = UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
            let k = UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) << 8 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 24
            out.append(SockFilter(code: code, jt: bytes[i + 2], jf: bytes[i + 3], k: k))
            i += 8
        }
        instructions = out
    }

    /// The raw form: `struct sock_filter[]`, little-endian.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(instructions.count * 8)
        for f in instructions {
            out += [UInt8(f.code & 0xff), UInt8(f.code >> 8), f.jt, f.jf,
                    UInt8(f.k & 0xff), UInt8((f.k >> 8) & 0xff), UInt8((f.k >> 16) & 0xff), UInt8(f.k >> 24)]
        }
        return out
    }

    public var count: Int { instructions.count }
}

/// Classic BPF opcode fields (linux/filter.h, linux/bpf_common.h).
enum BPFOp {
    static func cls(_ c: UInt16) -> UInt16 { c & 0x07 }
    static func size(_ c: UInt16) -> UInt16 { c & 0x18 }
    static func mode(_ c: UInt16) -> UInt16 { c & 0xe0 }
    static func aluOp(_ c: UInt16) -> UInt16 { c & 0xf0 }
    static func src(_ c: UInt16) -> UInt16 { c & 0x08 }
    static func rval(_ c: UInt16) -> UInt16 { c & 0x18 }
    static func miscOp(_ c: UInt16) -> UInt16 { c & 0xf8 }

    static let LD: UInt16 = 0x00, LDX: UInt16 = 0x01, ST: UInt16 = 0x02, STX: UInt16 = 0x03
    static let ALU: UInt16 = 0x04, JMP: UInt16 = 0x05, RET: UInt16 = 0x06, MISC: UInt16 = 0x07
    static let W: UInt16 = 0x00
    static let IMM: UInt16 = 0x00, ABS: UInt16 = 0x20, IND: UInt16 = 0x40, MEM: UInt16 = 0x60, LEN: UInt16 = 0x80, MSH: UInt16 = 0xa0
    static let ADD: UInt16 = 0x00, SUB: UInt16 = 0x10, MUL: UInt16 = 0x20, DIV: UInt16 = 0x30, OR: UInt16 = 0x40
    static let AND: UInt16 = 0x50, LSH: UInt16 = 0x60, RSH: UInt16 = 0x70, NEG: UInt16 = 0x80, MOD: UInt16 = 0x90, XOR: UInt16 = 0xa0
    static let JA: UInt16 = 0x00, JEQ: UInt16 = 0x10, JGT: UInt16 = 0x20, JGE: UInt16 = 0x30, JSET: UInt16 = 0x40
    static let K: UInt16 = 0x00, X: UInt16 = 0x08, A: UInt16 = 0x10
    static let TAX: UInt16 = 0x00, TXA: UInt16 = 0x80

    /// Size of `struct seccomp_data`.
    static let seccompDataSize: UInt32 = 64
    /// BPF_MAXINSNS.
    static let maxInstructions = 4096
    /// BPF_MEMWORDS.
    static let memWords: UInt32 = 16
}
