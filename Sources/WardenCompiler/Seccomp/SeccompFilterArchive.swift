import CSeccomp

/// A compiled filter written out for a later run (`SeccompFilterCache` in WardenRuntime):
/// the program, the libseccomp rules it came from and the syscalls absent on the
/// architecture, in a small length-prefixed binary form (decoding it costs microseconds;
/// JSON through Foundation cost milliseconds, a tenth of a launch; the key's input too). The policy is not
/// stored: the entry is found by, and carries, a key derived from the exact compiler
/// input, and a reader gives the policy it asked for.
public enum SeccompFilterArchive {
    /// The entry format; a reader refuses any other.
    public static let format: UInt32 = 2

    /// The compiler's whole input, canonically and unambiguously (length-prefixed strings):
    /// the policy — architecture, default action, every rule with its conditions, errno and
    /// source — the libseccomp version that compiles it, the layout of the program Warden
    /// builds around libseccomp's (`SeccompCompiler.layout`), and this archive's format. Hash
    /// it with whatever else the caller's key must cover (Warden's version, the policy files).
    public static func compilerInput(_ policy: SeccompPolicy) -> [UInt8] {
        compilerInput(policy, layout: SeccompCompiler.layout)
    }

    /// `compilerInput` as a compiler of program layout `layout` would have written it.
    static func compilerInput(_ policy: SeccompPolicy, layout: Int) -> [UInt8] {
        var w = Writer()
        let v = seccomp_version()?.pointee
        w.string("seccomp-filter-archive \(format) libseccomp \(v?.major ?? 0).\(v?.minor ?? 0).\(v?.micro ?? 0)"
                 + (layout == 1 ? "" : " layout \(layout)"))
        w.string(policy.arch.rawValue)
        switch policy.defaultDeny {
        case .errno(let e): w.string("errno \(e)")
        case .notify: w.string("notify")
        case .kill: w.string("kill")
        }
        w.u32(UInt32(policy.rules.count))
        for r in policy.rules {
            w.string(r.syscall)
            w.string(r.effect.rawValue)
            w.string(r.errno.map { "\($0)" } ?? "-")
            w.string(r.source)
            w.u32(UInt32(r.conditions.count))
            for c in r.conditions {
                w.string("\(c.arg) \(c.op.rawValue) \(c.value) \(c.mask) \(c.is32Bit)")
            }
        }
        return w.out
    }

    /// The entry's bytes.
    public static func encode(_ filter: SeccompFilter, key: String) -> [UInt8] {
        var w = Writer()
        w.u32(format)
        w.string(key)
        w.bytes(filter.program.bytes)
        w.strings(filter.absentOnArch)
        w.u32(UInt32(filter.rules.count))
        for r in filter.rules {
            w.string(r.syscall)
            w.u32(UInt32(bitPattern: r.number))
            w.u32(r.action.raw)
            w.strings(r.comparisons)
            w.strings(r.sources)
        }
        return w.out
    }

    /// The filter for `policy` from an entry's bytes; nil unless the entry is of this
    /// format, carries `key`, holds a well-formed program, and ends where it should.
    public static func decode(_ bytes: [UInt8], key: String, policy: SeccompPolicy) -> SeccompFilter? {
        var r = Reader(bytes: bytes)
        guard r.u32() == format, r.string() == key,
              let code = r.bytes(), !code.isEmpty, code.count <= 4096 * 8, let program = BPFProgram(bytes: code),
              let absent = r.strings(), let count = r.u32(), count <= 1 << 16 else { return nil }
        var rules: [CompiledSeccompRule] = []
        for _ in 0..<count {
            guard let syscall = r.string(), let number = r.u32(), let action = r.u32(),
                  let comparisons = r.strings(), let sources = r.strings() else { return nil }
            rules.append(CompiledSeccompRule(syscall: syscall, number: Int32(bitPattern: number), action: SeccompAction(raw: action),
                                             comparisons: comparisons, sources: sources))
        }
        guard r.atEnd else { return nil }
        return SeccompFilter(policy: policy, program: program, rules: rules, absentOnArch: absent)
    }

    struct Writer {
        var out: [UInt8] = []
        mutating func u32(_ v: UInt32) { out += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)] }
        mutating func bytes(_ b: [UInt8]) { u32(UInt32(b.count)); out += b }
        mutating func string(_ s: String) { bytes(Array(s.utf8)) }
        mutating func strings(_ list: [String]) { u32(UInt32(list.count)); for s in list { string(s) } }
    }

    /// Reads what `Writer` wrote; every read is bounds-checked (nil past the end).
    struct Reader {
        let data: [UInt8]
        var at = 0
        init(bytes: [UInt8]) { data = bytes }
        var atEnd: Bool { at == data.count }
        mutating func u32() -> UInt32? {
            guard data.count - at >= 4 else { return nil }
            defer { at += 4 }
            return UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3]) << 24
        }
        mutating func bytes() -> [UInt8]? {
            guard let n = u32().map(Int.init), n <= data.count - at else { return nil }
            defer { at += n }
            return Array(data[at..<(at + n)])
        }
        mutating func string() -> String? {
            bytes().flatMap { String(validating: $0, as: UTF8.self) }
        }
        mutating func strings() -> [String]? {
            guard let n = u32(), n <= UInt32(data.count - at) / 4 else { return nil }
            var out: [String] = []
            for _ in 0..<n {
                guard let s = string() else { return nil }
                out.append(s)
            }
            return out
        }
    }
}
